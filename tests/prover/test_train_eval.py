"""Training, the LM policy, verified evaluation, the assistant, Ray workers and the value loop."""

from __future__ import annotations

import json

import pytest

from ilya.core.plotting import png_text
from ilya.prover.baselines import OraclePolicy
from ilya.prover.dataset import read_split
from ilya.prover.format import ProofStep
from ilya.prover.kernel import Kernel
from ilya.prover.search import SearchConfig, search_many


def test_training_loss_falls(tiny_model):
    from ilya.core.runs import Run

    runs, path, out = tiny_model
    _, losses = Run.load(path).series("train/loss")
    assert losses[-1] < 0.6 * losses[0]
    assert (path / "model" / "model.safetensors").is_file() and out["steps"] == 120


def test_lm_policy_samples_steps_and_values(tiny_model, slice_db):
    from ilya.prover.model import LMPolicy, load_model

    model, tok, meta = load_model(tiny_model[1] / "model")
    pol = LMPolicy(model, tok)
    goals = [tuple(slice_db[1]["syl"].expr), tuple(slice_db[1]["id"].expr)]
    cands = pol.propose(goals, 6, ["syl", "id"])
    assert [len(c) for c in cands] == [6, 6]
    assert any(s is not None for c in cands for s, _ in c)  # a trained model writes well-formed steps
    assert all(lp <= 0 for c in cands for _, lp in c)
    vals = pol.value(goals)
    assert len(vals) == 2 and all(v <= 0 for v in vals)


def test_constrained_decoding_offers_only_assertions_that_match(tiny_model, slice_db):
    from ilya.prover.matching import matcher
    from ilya.prover.model import LMPolicy, load_model
    from ilya.prover.search import StepRejected

    _, db = slice_db
    model, tok, meta = load_model(tiny_model[1] / "model")
    assert meta["subst"] == "free"  # the default format
    pol = LMPolicy(model, tok, db=db)
    assert pol.decode == "constrained"
    kernel = Kernel(db)
    labels = ["syl", "id", "mpd", "a1i", "syl5"]
    goals = [tuple(db[lab].expr) for lab in labels]
    for lab, goal, cands in zip(labels, goals, pol.propose(goals, 8, labels), strict=True):
        allowed = {x.label: x for x in matcher(db).matches(goal, db[lab].index)}
        assert 0 < len(cands) <= 8
        assert all(lp <= 1e-6 for _, lp in cands)
        fixed = [(s, lp) for s, lp in cands if s is not None and not allowed[s.label].free]
        assert sum(2.718281828 ** lp for _, lp in fixed) <= 1.0 + 1e-4  # renormalised over the matches
        for step, _ in cands:
            if step is None:
                continue
            assert step.label in allowed  # never an unknown, later or non-matching label
            if not allowed[step.label].free:
                try:
                    kernel.expand(lab, goal, step)
                except StepRejected as r:  # a matching step can only fail on $d
                    assert r.reason == "dv"
    # the paper's free sampling is still there
    assert LMPolicy(model, tok, db=db, decode="sample").propose(goals[:1], 4, labels[:1])[0]


def test_batched_label_scores_equal_a_plain_forward(tiny_model, slice_db):
    import torch

    from ilya.prover.format import prompt
    from ilya.prover.matching import matcher
    from ilya.prover.model import LMPolicy, load_model

    _, db = slice_db
    model, tok, _ = load_model(tiny_model[1] / "model")
    pol = LMPolicy(model, tok, db=db)
    labels = ["mpd", "syl"]  # two prompts of different lengths in one batch
    goals = [tuple(db[lab].expr) for lab in labels]
    ok, lens, caches, h = pol._prefill(goals, labels)
    jobs = [(r, m) for r, lab in enumerate(labels) for m in matcher(db).matches(goals[r], db[lab].index)]
    got = pol._score_labels(caches, lens, h, jobs, chunk=7)
    for (r, m), score in zip(jobs, got.tolist(), strict=True):
        p = tok.encode(prompt(goals[r], pol.hyps(labels[r])))
        c = tok.encode(" " + m.label) + [pol._cont if m.free else tok.eos_id]
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([p + c]))[0][0], -1)
        want = sum(float(lp[len(p) - 1 + k, t]) for k, t in enumerate(c))
        assert abs(score - want) < 1e-3


def test_label_scores_batched_across_goals_equal_one_goal_at_a_time(tiny_model, slice_db):
    """Issue 17: the labels of every goal of a round go through the model together; same scores as one
    forward per goal (and per piece of a goal's labels)."""
    import torch

    from ilya.prover.matching import matcher
    from ilya.prover.model import LMPolicy, load_model

    _, db = slice_db
    model, tok, _ = load_model(tiny_model[1] / "model")
    pol = LMPolicy(model, tok, db=db)
    labels = ["mpd", "syl", "id", "a1i", "syl5", "com12"]
    goals = [tuple(db[lab].expr) for lab in labels]
    ok, lens, caches, h = pol._prefill(goals, labels)
    jobs = [(r, m) for r, lab in enumerate(labels) for m in matcher(db).matches(goals[r], db[lab].index)]
    assert len({r for r, _ in jobs}) == len(labels) and len(jobs) > 20
    loop = pol._score_labels(caches, lens, h, jobs, chunk=1024, batched=False)
    for chunk, budget in ((256, 8192), (5, 64), (3, 1)):  # several pieces per goal, several forwards
        batched = pol._score_labels(caches, lens, h, jobs, chunk=chunk, batched=True, max_tokens=budget)
        assert torch.allclose(batched, loop, atol=1e-4, rtol=1e-4), (chunk, (batched - loop).abs().max())
    assert bool((loop < 0).all())


def test_oracle_search_proves_small_theorems_and_rejects_wrong_steps(slice_db, dataset):
    _, db = slice_db
    recs = list(read_split(dataset[0], "test"))
    wrong = [ProofStep.make("ax-1", {"ph": ("ph",), "ps": ("ps",)}), ProofStep.make("nosuch")]
    kernel = Kernel(db)
    res = search_many([(r.label, r.goal) for r in recs], OraclePolicy(recs, wrong), kernel,
                      SearchConfig(e=4, d=64), batch=4)
    assert all(r.proved for r in res)
    assert sum(r.counts["rejected:unknown_label"] for r in res) > 0
    for r in res:
        labels = kernel.assemble(r.proof, r.theorem)
        kernel.verify(r.theorem, labels)
        assert "nosuch" not in labels


def _reverify(db, proofs):
    """Check compressed proofs independently: write them into the database, reload, verify."""
    import tempfile
    from pathlib import Path

    from ilya.metamath import load

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "x.mm"
        db.write(p, replacements=proofs)
        db2 = load(p)
        for lab in proofs:
            db2.verify(lab)


def test_eval_writes_only_verified_proofs(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main

    rc = main(["prover", "eval", "--policy", "frequency", "--data", str(dataset[0]), "--runs-dir", str(tmp_path),
               "--run", "ev", "--limit", "12", "--e", "8", "--d", "8", "--json", "--metamath-exe"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for k in ("attempted", "proved", "proved_pct", "expansions", "e", "d"):
        assert k in out
    assert out["attempted"] == 12 and out["e"] == 8 and out["d"] == 8
    rows = [json.loads(x) for x in (tmp_path / "prover" / "ev" / "proofs.jsonl").read_text().splitlines()]
    assert len(rows) == out["proved"] > 0
    assert set(rows[0]) == {"label", "proof", "steps", "setmm_steps"}
    _reverify(slice_db[1], {r["label"]: r["proof"] for r in rows})
    assert out["metamath_exe_accepted"] == out["proved"]
    # the registered figures: % proved vs budget rises to the eval's figure; the headline row is the
    # summary's (only for runs on set.mm itself: this slice gives none until its summary says set.mm)
    from ilya.core import figures
    from ilya.core.runs import Run
    from ilya.prover.plots import proved_vs_budget

    run = Run.load(tmp_path / "prover" / "ev")
    results = [json.loads(x) for x in (run.path / "results.jsonl").read_text().splitlines()]
    assert all(isinstance(r["clean"], bool) for r in results)  # each test theorem's clean flag, for the figure
    ks, pct = proved_vs_budget(results, 8)
    assert ks == list(range(1, 9)) and pct == sorted(pct) and round(pct[-1], 2) == out["proved_pct"]
    assert (run.path / "plots" / "proved_vs_budget.png").is_file()  # drawn by draw_run at the end of eval
    assert figures.headline_rows("prover", [run]) == []
    run.summary(database="/usr/share/metamath/databases/set.mm")
    [row] = figures.headline_rows("prover", [run])
    assert row.ours == (f"{out['proved_pct']}% ({out['proved']}/12); clean split: {out['clean_proved_pct']}% "
                        f"({out['clean_proved']}/{out['clean_attempted']})") and row.paper.startswith("29.22% (160M)")
    assert out["clean_attempted"] + out["flagged_attempted"] == 12
    assert out["load_seconds"] > 0 and out["search_seconds"] > 0
    paths = figures.draw_paper("prover", [run], tmp_path / "paper")
    assert [p.name for p in paths] == ["prover_budget.png"]


def test_eval_refuses_bad_input(dataset, tmp_path, capsys):
    from ilya.cli import main

    assert main(["prover", "eval", "--policy", "frequency", "--data", str(dataset[0]), "--runs-dir", str(tmp_path),
                 "--split", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nope'" in err and "'train', 'valid', 'test'" in err  # the choices named
    assert main(["prover", "eval", "--data", str(dataset[0]), "--runs-dir", str(tmp_path)]) == 2
    assert "--model is required" in capsys.readouterr().err


def test_assistant_suggests_and_proves_a_new_statement(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main

    assert main(["prover", "suggest", "|- ( ph -> ph )", "--data", str(dataset[0]), "--json"]) == 0
    sug = json.loads(capsys.readouterr().out)
    assert sug["suggestions"] and all(r["status"] == "ok" for r in sug["suggestions"])
    new = tmp_path / "new.mm"
    new.write_text(f"$[ {slice_db[0]} $]\nmyid $p |- ( ps -> ( ph -> ph ) ) $= ? $.\n")
    assert main(["prover", "prove", str(new), "--data", str(dataset[0]), "--d", "32"]) == 0
    out = capsys.readouterr().out
    assert "myid proved" in out and "verified" in out


@pytest.mark.procs
def test_ray_path_with_two_local_workers(slice_db, dataset):
    from ilya.prover.baselines import FrequencyPolicy
    from ilya.prover.evaluate import prove, prove_distributed

    db_path, db = slice_db
    labels = [r.label for r in read_split(dataset[0], "test")][:6]
    cfg = SearchConfig(e=4, d=6)
    spec = {"kind": "frequency", "data": str(dataset[0])}
    dist = prove_distributed(str(db_path), spec, labels, cfg, workers=2)
    local = prove(db, FrequencyPolicy(db, list(read_split(dataset[0], "train"))), labels, cfg)
    assert [r["label"] for r in dist] == labels
    assert [r["proved"] for r in dist] == [r["proved"] for r in local]


def test_iterate_runs_the_value_loop(tiny_model, slice_db, dataset, capsys):
    """One search -> retrain round: its value targets are balanced and written as counted, the retrained
    model starts from the given one, and each iteration's test figures equal an independent search with
    that iteration's model and seed."""
    from ilya.core.runs import Run
    from ilya.prover.dataset import pick_theorems, split_labels
    from ilya.prover.evaluate import prove
    from ilya.prover.iterate import IterateConfig, iterate
    from ilya.prover.policies import make_policy

    runs = tiny_model[0]
    cfg = IterateConfig(run="it", runs_dir=runs, model="tiny", data=dataset[0], iterations=1,
                        train_theorems=4, test_theorems=3, e=4, d=4, steps=10, max_examples=500)
    out = iterate(cfg)
    path = runs / "prover" / "it"
    hist = [json.loads(x) for x in (path / "iterations.jsonl").read_text().splitlines()]
    assert [h["iteration"] for h in hist] == [0, 1] and hist[1]["priority"] == "value"
    n_pos, n_neg = hist[0]["value_provable"], hist[0]["value_unprovable"]
    assert n_pos + n_neg > 0 and n_neg <= max(n_pos, 1)  # balanced: searches yield far more UNPROVABLE goals
    targets = [json.loads(x) for x in (path / "value_targets.jsonl").read_text().splitlines()]
    assert sum(t["provable"] for t in targets) == n_pos and len(targets) == n_pos + n_neg
    retrained = Run.load(runs / "prover" / "it-it1")
    assert retrained.read_summary()["steps"] == 10
    assert retrained.config["init"] == str((runs / "prover" / "tiny" / "model").resolve())
    assert out["final_model"] == str((retrained.path / "model").resolve())
    test = pick_theorems(split_labels(dataset[0], "test"), 3)
    _, db = slice_db
    for h, it in zip(hist, (0, 1), strict=True):
        policy = make_policy({"kind": "model", "path": h["model"], "threads": 0, "seed": it}, db)
        rows = prove(db, policy, test, SearchConfig(e=4, d=4, time_limit=20.0, priority="logprob"), 8)
        assert h["test_expansions_logprob"] == sum(r["expansions"] for r in rows) > 0
        assert h["test_proved_pct_logprob"] == 100.0 * sum(r["proved"] for r in rows) / 3
    assert int(png_text(path / "plots" / "iterations.png")["ilya:curves"]) == 3  # train, test x 2 priorities


def test_broken_model_files_are_one_error_line(tiny_model, dataset, tmp_path, capsys):
    import shutil

    from ilya.cli import main

    for broken in ("model.safetensors", "model.json"):
        model = tmp_path / broken / "model"
        shutil.copytree(tiny_model[1] / "model", model)
        data = (model / broken).read_bytes()
        (model / broken).write_bytes(data[: len(data) // 2])  # truncated (a copy cut short, a full disk)
        rc = main(["prover", "eval", "--model", str(model), "--data", str(dataset[0]), "--limit", "1",
                   "--runs-dir", str(tmp_path), "--run", f"ev-{broken}"])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and err.startswith(f"ilya: error: {model / broken}: ")


def test_eval_refuses_bad_budgets_and_warns_about_another_database(slice_db, dataset, tmp_path, capsys):
    from ilya.cli import main

    base = ["prover", "eval", "--policy", "frequency", "--data", str(dataset[0]), "--runs-dir", str(tmp_path)]
    for flags, what in ((["--e", "0"], "--e 0: expected at least 1"), (["--d", "-3"], "--d -3: expected at least 1"),
                        (["--time-limit", "0"], "--time-limit 0: expected a positive number")):
        assert main(base + flags) == 2
        assert capsys.readouterr().err == f"ilya: error: {what}\n"
    other = tmp_path / "copy.mm"
    other.write_text(slice_db[0].read_text())
    assert main(base + ["--db", str(other), "--limit", "2", "--d", "2", "--json"]) == 0
    cap = capsys.readouterr()
    assert f"warning: --db {other}: the dataset {dataset[0]} was built from {slice_db[0]}" in cap.err
    assert json.loads(cap.out)["database"] == str(other)


def test_shorten_finds_a_shorter_proof_and_writes_a_patch(slice_db, dataset, tmp_path, capsys):
    """A theorem with a roundabout 5-step proof of ( ph -> ph ): the 1-step proof by ~id is found."""
    from ilya.cli import main

    db_path, db = slice_db
    text = db_path.read_text()
    long_proof = " ".join(db["idALT"].proof_text)
    mm = tmp_path / "long.mm"
    mm.write_text(text + f"\n  myid $p |- ( ph -> ph ) $=\n    {long_proof} $.\n")
    assert main(["prover", "shorten", "--db", str(mm), "--data", str(dataset[0]), "--labels", "myid", "idALT",
                 "--runs-dir", str(tmp_path), "--run", "sh", "--d", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["skipped_modification_discouraged"] == 1  # idALT says "(Proof modification is discouraged.)"
    assert out["shorter_verified"] == 1 and out["metamath_exe_accepted"] == 1
    assert out["patch_verified_by_metamath_exe"] is True  # the whole patched database, every proof
    patch = (tmp_path / "prover" / "sh" / "shorter.patch").read_text()
    assert "myid $p |- ( ph -> ph ) $=" in patch and "( id ) AB" in patch
    row = json.loads((tmp_path / "prover" / "sh" / "shorter.jsonl").read_text())
    assert row["steps"] == 1 < row["setmm_steps"]
    rejections = [json.loads(x) for x in (tmp_path / "prover" / "sh" / "rejections.jsonl").read_text().splitlines()]
    assert {"label": "idALT", "reason": "modification discouraged"} in rejections
    assert out["rejected"] == {"modification discouraged": 1}
