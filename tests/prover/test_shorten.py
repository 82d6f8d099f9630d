"""`ilya prover shorten` at scale: --offset continues a split, one-step theorems are skipped, --combine
merges runs into one patch that metamath-exe verifies whole."""

from __future__ import annotations

import json

import pytest

from ilya.core.errors import IlyaError


def _jsonl(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_offset_continues_the_fixed_order(dataset):
    from ilya.prover.config import ShortenConfig
    from ilya.prover.shorten import pick

    ds = dataset[0]
    first = pick(ShortenConfig(data=ds, split="train", limit=8))
    more = pick(ShortenConfig(data=ds, split="train", limit=5, offset=3))
    assert len(first) == 8 and more == first[3:8]
    rest = pick(ShortenConfig(data=ds, split="train", limit=0, offset=3))  # 0 = the whole split after the offset
    everything = pick(ShortenConfig(data=ds, split="train", limit=0))
    assert rest == everything[3:] and len(rest) == len(everything) - 3


@pytest.mark.parametrize("kw, msg", [({"offset": -1}, "--offset -1: expected at least 0"),
                                     ({"offset": 2, "labels": ["a1i"]}, "cannot go with --labels"),
                                     ({"combine": ["x"], "labels": ["a1i"]}, "--combine merges finished runs"),
                                     ({"combine": []}, "expected at least one shorten run"),
                                     ({"min_setmm_steps": 1}, "--min-setmm-steps 1: expected at least 2"),
                                     ({"min_setmm_steps": 5, "max_setmm_steps": 4}, "expected at least --min")])
def test_shorten_flags_are_validated(kw, msg):
    from ilya.prover.config import ShortenConfig

    with pytest.raises(IlyaError, match=msg):
        ShortenConfig(**kw)


def test_setmm_step_counts_match_the_records(dataset):
    from ilya.prover.dataset import TheoremRecord, setmm_step_counts

    counts = setmm_step_counts(dataset[0])
    for split in ("train", "valid", "test"):
        for line in (dataset[0] / f"{split}.jsonl").read_text().splitlines():
            rec = TheoremRecord.from_json(json.loads(line))
            assert counts[rec.label] == rec.setmm_steps


def _two_roundabout_theorems(slice_db, tmp_path):
    """The slice plus myid and myid2: ( ph -> ph ) by idALT's 5-step proof, which `id` proves in 1."""
    db_path, db = slice_db
    long_proof = " ".join(db["idALT"].proof_text)
    mm = tmp_path / "long.mm"
    mm.write_text(db_path.read_text() + f"\n  myid $p |- ( ph -> ph ) $=\n    {long_proof} $.\n"
                  f"\n  myid2 $p |- ( ps -> ps ) $=\n    {long_proof.replace('ph', 'ps')} $.\n")
    return mm


def test_one_step_theorems_are_not_searched(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main
    from ilya.prover.dataset import setmm_step_counts

    counts = setmm_step_counts(dataset[0])
    one = sorted(lab for lab, n in counts.items() if n <= 1)
    assert one, "the slice has theorems proved in one |- step"
    assert main(["prover", "shorten", "--db", str(slice_db[0]), "--data", str(dataset[0]), "--labels", one[0],
                 "--runs-dir", str(tmp_path), "--run", "one", "--d", "4", "--json", "--no-verify-patch"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["attempted"] == 0 and out["skipped_one_step"] == 1
    assert out["rejected"] == {"already one step": 1}
    assert _jsonl(tmp_path / "prover" / "one" / "rejections.jsonl") == [
        {"label": one[0], "reason": "already one step", "setmm_steps": counts[one[0]]}]


def test_combine_merges_runs_into_one_verified_patch(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main

    mm = _two_roundabout_theorems(slice_db, tmp_path)
    common = ["--db", str(mm), "--data", str(dataset[0]), "--runs-dir", str(tmp_path), "--d", "8", "--json"]
    for run, labels in (("a", ["myid", "idALT"]), ("b", ["myid2"]), ("c", ["myid"])):
        assert main(["prover", "shorten", *common, "--run", run, "--labels", *labels, "--no-verify-patch"]) == 0
        capsys.readouterr()
    assert main(["prover", "shorten", *common, "--run", "all", "--combine", "a", "b",
                 str(tmp_path / "prover" / "c")]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["combined_runs"] == ["a", "b", "c"]
    assert out["shorter_verified"] == 2 and out["refused_on_recheck"] == 0  # myid once, though kept twice
    assert out["patch_verified_by_metamath_exe"] is True
    assert out["attempted"] == 3 and out["rejected"] == {"modification discouraged": 1}  # idALT, from run a
    folder = tmp_path / "prover" / "all"
    rows = _jsonl(folder / "shorter.jsonl")
    assert [(r["label"], r["steps"], r["setmm_steps"]) for r in rows] == [("myid", 1, 5), ("myid2", 1, 5)]
    patch = (folder / "shorter.patch").read_text()
    assert patch.count("\n-    ") == 2 and patch.count("( id ) AB") == 2  # one hunk line out, one in, each
    # the patch applies to the original database and gives the combined proofs
    import subprocess

    copy = tmp_path / "copy.mm"
    copy.write_text(mm.read_text())
    subprocess.run(["patch", "-s", str(copy), str(folder / "shorter.patch")], check=True)
    from ilya.metamath import load

    patched = load(copy)
    assert list(patched["myid"].proof_text) == rows[0]["proof"].split()
    patched.verify("myid")
    patched.verify("myid2")


def test_combine_refuses_a_broken_record(slice_db, dataset, tmp_path):
    from ilya.prover.config import ShortenConfig
    from ilya.prover.shorten import combine

    folder = tmp_path / "prover" / "bad"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"db": str(slice_db[0])}))
    (folder / "shorter.jsonl").write_text('{"label": "a1i", "proof": "x", "steps": 1}\n{"label": \n')
    cfg = ShortenConfig(db=slice_db[0], data=dataset[0], runs_dir=tmp_path, run="m", combine=["bad"])
    with pytest.raises(IlyaError, match="not a kept-proof record") as e:
        combine(cfg)
    assert e.value.line == 2
    (folder / "shorter.jsonl").unlink()
    with pytest.raises(IlyaError, match="no shorter.jsonl"):
        combine(cfg)


def test_the_step_range_leaves_theorems_out_with_the_reason(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main
    from ilya.prover.dataset import setmm_step_counts
    from ilya.prover.slicing import discouraged_labels

    no_modify = discouraged_labels(slice_db[0])[0]
    counts = setmm_step_counts(dataset[0])
    by_steps = {n: lab for lab, n in sorted(counts.items(), reverse=True) if n >= 2 and lab not in no_modify}
    short, middle, long = sorted(by_steps)[0], sorted(by_steps)[1], sorted(by_steps)[-1]
    assert short < middle < long
    two, mid, long_lab = by_steps[short], by_steps[middle], by_steps[long]
    assert main(["prover", "shorten", "--db", str(slice_db[0]), "--data", str(dataset[0]), "--labels", two, long_lab,
                 mid, "--min-setmm-steps", str(middle), "--max-setmm-steps", str(middle), "--runs-dir", str(tmp_path),
                 "--run", "r", "--d", "4", "--json", "--no-verify-patch"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["attempted"] == 1 and out["skipped_step_range"] == 2  # only `mid` is searched
    rej = {r["label"]: r for r in _jsonl(tmp_path / "prover" / "r" / "rejections.jsonl")}
    assert rej[two] == {"label": two, "reason": "outside the step range", "setmm_steps": short}
    assert rej[long_lab] == {"label": long_lab, "reason": "outside the step range", "setmm_steps": long}
    assert mid not in rej or rej[mid]["reason"] in ("not proved", "not shorter")


def test_combine_refuses_a_run_of_another_database(slice_db, dataset, tmp_path):
    from ilya.prover.config import ShortenConfig
    from ilya.prover.shorten import combine

    folder = tmp_path / "prover" / "other"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"db": str(tmp_path / "iset.mm")}))
    (folder / "shorter.jsonl").write_text("")
    cfg = ShortenConfig(db=slice_db[0], data=dataset[0], runs_dir=tmp_path, run="m", combine=["other"])
    with pytest.raises(IlyaError, match="its proofs belong to that database"):
        combine(cfg)
