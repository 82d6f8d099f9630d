"""The proof-step dataset (GPT-f paper §3.2): every step of every set.mm proof, split by theorem.

`build_dataset` walks the ``$p`` theorems of a database, asks the kernel for each proof's GPT-f steps
(``db.proof_steps``: one per ``|-`` node of the proof tree, pre-order, with the full substitution) and
writes one JSON line per theorem to ``<out>/<split>.jsonl``::

    {"label": "syl", "index": 57, "goal": "|- ( ph -> ch )", "hyps": ["|- ( ph -> ps )", ...],
     "steps": [["|- ( ph -> ch )", "mpd {{ ph : ph }} ..."], ...], "setmm_steps": 5}

Theorems are split by a hash of their label, so the split does not depend on the order of the file or
on the machine, and every step of a theorem lands in the same split as the theorem (the paper's valid
and test sets hold about 1,000 theorems each).  ``stats.json`` records the counts beside the paper's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.progress import progress
from ilya.metamath import Database, Statement, load
from ilya.prover.clean import REASONS, Key, canonical, leakage_flags, variable_types
from ilya.prover.config import DEFAULT_DB, SPLITS, DatasetConfig, Split
from ilya.prover.format import Expr, ProofStep, example_text, goal_text, step_text

PAPER = {"theorems": 38_000, "proof_steps": 3_000_000, "valid_theorems": 1_000, "test_theorems": 1_000}


def split_of(label: str, valid_fraction: float, test_fraction: float) -> str:
    """Deterministic split of a theorem: a hash of its label, uniform in [0, 1)."""
    u = int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big") / 2.0**64
    if u < test_fraction:
        return "test"
    if u < test_fraction + valid_fraction:
        return "valid"
    return "train"


def split_fractions(n_theorems: int, valid: int = 1000, test: int = 1000) -> tuple[float, float]:
    """Fractions that give about ``valid``/``test`` theorems (at most 15% each on small databases)."""
    n = max(n_theorems, 1)
    return min(valid / n, 0.15), min(test / n, 0.15)


@dataclass
class TheoremRecord:
    """One theorem of the dataset."""

    label: str
    index: int
    goal: Expr
    hyps: list[Expr]
    steps: list[tuple[Expr, ProofStep]]
    setmm_steps: int
    flags: list[str] = field(default_factory=list)
    """valid/test only: why the theorem is not clean (`ilya.prover.clean`); empty when clean"""

    @property
    def clean(self) -> bool:
        return not self.flags

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "index": self.index, "goal": goal_text(self.goal),
                "hyps": [goal_text(h) for h in self.hyps],
                "steps": [[goal_text(g), step_text(s)] for g, s in self.steps],
                "setmm_steps": self.setmm_steps}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TheoremRecord:
        from ilya.prover.format import parse_step

        steps = []
        for g, s in d["steps"]:
            st = parse_step(s)
            assert st is not None, s
            steps.append((tuple(g.split()), st))
        return cls(d["label"], int(d["index"]), tuple(d["goal"].split()),
                   [tuple(h.split()) for h in d["hyps"]], steps, int(d["setmm_steps"]), list(d.get("flags", [])))


def essential_hyps(db: Database, label: str) -> list[Expr]:
    """The ``$e`` hypotheses of a theorem, in order: what the prompt shows after ``HYPS`` (in training
    records and at search time alike)."""
    return [tuple(db[h].expr) for h in db[label].hyps if db[h].kind == "e"]


def theorem_record(db: Database, label: str) -> TheoremRecord:
    """The GPT-f steps of one theorem's proof (uses the kernel's ``proof_steps``)."""
    st = db[label]
    hyps = essential_hyps(db, label)
    steps = [(tuple(s.goal), ProofStep.make(s.label, {v: tuple(t) for v, t in s.subst.items()}))
             for s in db.proof_steps(label, only_provable=True)]
    return TheoremRecord(label, st.index, tuple(st.expr), hyps, steps, len(steps))


def provable_theorems(db: Database) -> list[Statement]:
    """``$p`` statements, in database order."""
    return [st for st in db.statements if st.kind == "p"]


def build_dataset(db: Database, out: Path, valid: int = 1000, test: int = 1000, max_theorems: int | None = None,
                  max_steps_per_theorem: int = 5000) -> dict[str, Any]:
    """Write ``train/valid/test.jsonl`` and ``stats.json`` under ``out``; return the statistics.

    Theorems whose proof is incomplete (``?``) are skipped; a proof with more than
    ``max_steps_per_theorem`` expanded steps keeps only its first ones (marked ``truncated``, counted).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    theorems = provable_theorems(db)
    if max_theorems:
        theorems = theorems[:max_theorems]
    fv, ft = split_fractions(len(theorems), valid, test)
    stack = contextlib.ExitStack()
    files = {s: stack.enter_context((out / f"{s}.jsonl.tmp").open("w", encoding="utf-8")) for s in SPLITS}
    counts: Counter = Counter()
    labels_used: Counter = Counter()
    goal_syms = 0
    t0 = time.time()
    try:
        for st in progress(theorems, desc="dataset"):
            try:
                rec = theorem_record(db, st.label)
            except Exception as e:  # incomplete or unverifiable proof: skipped, counted
                if type(e).__name__ not in ("MetamathError", "IlyaError", "ValueError", "KeyError"):
                    raise
                counts["skipped"] += 1
                continue
            split = split_of(st.label, fv, ft)
            row_extra = {}
            if len(rec.steps) > max_steps_per_theorem:  # kept (the theorem stays in its split), steps cut
                counts["truncated"] += 1
                rec.steps = rec.steps[:max_steps_per_theorem]
                row_extra["truncated"] = True
            files[split].write(json.dumps({**rec.to_json(), **row_extra}) + "\n")
            counts[f"{split}_theorems"] += 1
            counts[f"{split}_steps"] += len(rec.steps)
            counts[f"{split}_unique_steps"] += len({(g, s) for g, s in rec.steps})
            for g, s in rec.steps:
                labels_used[s.label] += 1
                goal_syms += len(g)
    finally:
        stack.close()
    for s in SPLITS:
        (out / f"{s}.jsonl.tmp").replace(out / f"{s}.jsonl")
    n_th = sum(counts[f"{s}_theorems"] for s in SPLITS)
    n_steps = sum(counts[f"{s}_steps"] for s in SPLITS)
    stats = {
        "database": str(getattr(db, "path", "")),
        "theorems": n_th, "proof_steps": n_steps,
        "unique_proof_steps": sum(counts[f"{s}_unique_steps"] for s in SPLITS),
        **{f"{s}_{k}": counts[f"{s}_{k}"] for s in SPLITS for k in ("theorems", "steps")},
        "skipped_theorems": counts["skipped"], "truncated_theorems": counts["truncated"],
        "distinct_labels_used": len(labels_used),
        "mean_goal_symbols": round(goal_syms / max(n_steps, 1), 1),
        "mean_steps_per_theorem": round(n_steps / max(n_th, 1), 1),
        "valid_fraction": fv, "test_fraction": ft, "seconds": round(time.time() - t0, 1),
        "paper": PAPER,
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    mark_clean(db, out)
    return load_stats(out)


# ---------------------------------------------------------------------------- clean splits
def _train_step_keys(data: Path, lengths: set[int], vtype: dict[str, str]
                     ) -> Iterator[tuple[int, str, list[tuple[Key, str]]]]:
    """(index, label, (key of the goal, label applied) of its distinct steps) of every train theorem,
    streamed from train.jsonl; only goals of ``lengths`` symbols are keyed (the hypothesis-free held-out
    statements' lengths)."""
    with open(Path(data) / "train.jsonl", encoding="utf-8") as f:
        for line in progress(f, desc="train proofs", total=load_stats(data).get("train_theorems")):
            d = json.loads(line)
            steps = {(g, s.split(" ", 1)[0]) for g, s in d["steps"] if g.count(" ") + 1 in lengths}
            yield int(d["index"]), d["label"], [(canonical(tuple(g.split()), [], vtype), lab) for g, lab in steps]


def mark_clean(db: Database, data: Path) -> dict[str, Any]:
    """Flag the valid/test theorems that are in effect in the training data (`ilya.prover.clean`).

    Rewrites ``valid.jsonl``/``test.jsonl`` with ``"clean"`` and ``"flags"`` in every row, writes
    ``clean.json`` (counts per split and reason, each flagged label with the theorem that flags it) and adds
    the counts to ``stats.json``; returns what ``clean.json`` holds.  Reads train.jsonl once (~1 min).
    """
    data = Path(data)
    split = {lab: s for s in SPLITS for lab in split_labels(data, s)}
    held_out = {lab for lab, s in split.items() if s != "train"}
    vtype = variable_types((st.expr[0], st.expr[1]) for st in db.statements if st.kind == "f")
    assertions: list[tuple[str, int, str, Key]] = []
    hyp_free: set[str] = set()
    lengths: set[int] = set()
    for st in db.statements:
        if st.kind not in ("a", "p"):
            continue
        hyps = essential_hyps(db, st.label)
        assertions.append((st.label, st.index, split.get(st.label, "axiom" if st.kind == "a" else "other"),
                           canonical(tuple(st.expr), hyps, vtype)))
        if st.label in held_out and not hyps:
            hyp_free.add(st.label)
            lengths.add(len(st.expr))
    flags, details, _ = leakage_flags(assertions, held_out, _train_step_keys(data, lengths, vtype), hyp_free)
    report: dict[str, Any] = {"reasons": list(REASONS)}
    for s in ("valid", "test"):
        path = data / f"{s}.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for row in rows:
            row["flags"] = flags.get(row["label"], [])
            row["clean"] = not row["flags"]
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
        fl = [r["flags"] for r in rows]
        report[s] = {"theorems": len(rows), "clean": sum(not f for f in fl), "flagged": sum(bool(f) for f in fl),
                     "in_training_data": sum(("duplicate_later_train" in f or "derived_in_train_proof" in f)
                                             for f in fl),
                     **{r: sum(r in f for f in fl) for r in REASONS},
                     "derived_in_later_train_proof": sum(
                         "derived_in_later_train_proof" in details.get(r["label"], {}) for r in rows)}
    report["flagged"] = {lab: {"split": split[lab], "flags": f, "because": details.get(lab, {})}
                         for lab, f in sorted(flags.items()) if f}
    (data / "clean.json").write_text(json.dumps(report, indent=1) + "\n")
    stats = load_stats(data)
    if stats:
        stats["clean"] = {s: report[s] for s in ("valid", "test")}
        (data / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return report


def read_split(data: Path, split: str) -> Iterator[TheoremRecord]:
    """Theorem records of one split (``<data>/<split>.jsonl``)."""
    path = Path(data) / f"{split}.jsonl"
    if not path.is_file():
        raise IlyaError(f"no {split} split here: run `ilya prover dataset --out {data}` first", file=path)
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            try:
                yield TheoremRecord.from_json(json.loads(line))
            except (json.JSONDecodeError, KeyError, AssertionError) as e:
                raise IlyaError(f"not a dataset record ({e})", file=path, line=i) from None


def sample_records(data: Path, split: str, max_steps: int, seed: int = 0,
                   per_theorem: int = 0) -> list[TheoremRecord]:
    """Theorems of a split in a seeded random order, until about ``max_steps`` steps are taken.

    With ``per_theorem``, each theorem keeps at most that many of its distinct steps (a seeded random
    choice), so the same number of steps covers more theorems (and more of the database's lemmas).
    Reads only the lines it keeps (the full train split of set.mm is ~450 MB of JSON).
    """
    import random

    path = Path(data) / f"{split}.jsonl"
    if not path.is_file():
        raise IlyaError(f"no {split} split here: run `ilya prover dataset --out {data}` first", file=path)
    offsets = []
    with open(path, "rb") as f:
        pos = 0
        for line in f:
            offsets.append(pos)
            pos += len(line)
    order = list(range(len(offsets)))
    random.Random(seed).shuffle(order)
    out: list[TheoremRecord] = []
    n = 0
    with open(path, "rb") as f:
        for i in order:
            if n >= max_steps:
                break
            f.seek(offsets[i])
            try:
                rec = TheoremRecord.from_json(json.loads(f.readline()))
            except (json.JSONDecodeError, KeyError, AssertionError) as e:
                raise IlyaError(f"not a dataset record ({e})", file=path, line=i + 1) from None
            if per_theorem:
                steps = list(dict.fromkeys(rec.steps))
                if len(steps) > per_theorem:
                    steps = random.Random(f"{seed}:{rec.label}").sample(steps, per_theorem)
                rec.steps = steps
            out.append(rec)
            n += len(rec.steps)
    return out


def examples(records: Iterator[TheoremRecord] | list[TheoremRecord], dedup: bool = True
             ) -> Iterator[tuple[str, str]]:
    """(prompt, completion) training pairs; identical steps within one theorem are kept once."""
    for rec in records:
        seen: set[tuple[Expr, ProofStep]] = set()
        for g, s in rec.steps:
            if dedup:
                if (g, s) in seen:
                    continue
                seen.add((g, s))
            yield example_text(g, s, rec.hyps)


def load_stats(data: Path) -> dict[str, Any]:
    p = Path(data) / "stats.json"
    return json.loads(p.read_text()) if p.is_file() else {}


# ---------------------------------------------------------------------------- what commands read
def pick_theorems(labels: list[str], limit: int) -> list[str]:
    """A fixed subset of a split: the ``limit`` labels with the smallest hash (same for every policy)."""
    def key(s: str) -> bytes:
        return hashlib.sha256(("pick:" + s).encode()).digest()

    return sorted(labels, key=key)[:limit] if limit else list(labels)


def load_database(db: Path | None, data: Path | None = None) -> Database:
    """The database given, else the one the dataset was built from, else Debian's set.mm.

    A database other than the dataset's is allowed (e.g. ``--db iset.mm``) with a warning: the split,
    the baseline's label statistics and the model's training all come from the dataset's database.
    """
    built = load_stats(data).get("database") if data is not None else None
    if db is None:
        return load(Path(built) if built else None)
    out = load(db)
    if built and out.path is not None and Path(built).resolve() != out.path.resolve():
        print(f"warning: --db {db}: the dataset {data} was built from {built}; its splits and statistics "
              "come from that database", file=sys.stderr)
    return out


def split_labels(data: Path, split: Split, clean: bool = False) -> list[str]:
    """Theorem labels of a split, read without parsing the records; ``clean``: only the clean ones
    (valid/test, flagged by `mark_clean`)."""
    path = Path(data) / f"{split}.jsonl"
    if split not in SPLITS:
        raise IlyaError(f"--split {split}: expected train, valid or test")
    if not path.is_file():
        raise IlyaError(f"no {split} split here: run `ilya prover dataset --out {data}` first", file=path)
    if clean:
        return [lab for lab, f in split_flags(data, split).items() if not f]
    out: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\{"label": "([^"]+)"', line)
            out.append(m.group(1) if m else json.loads(line)["label"])
    return out


def setmm_step_counts(data: Path) -> dict[str, int]:
    """label -> ``|-`` steps of set.mm's proof, read from the dataset's splits (those that exist)."""
    out: dict[str, int] = {}
    for split in SPLITS:
        path = Path(data) / f"{split}.jsonl"
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                lab = re.match(r'\{"label": "([^"]+)"', line)
                n = re.search(r'"setmm_steps": (\d+)', line)
                if lab and n:
                    out[lab.group(1)] = int(n.group(1))
    return out


def split_flags(data: Path, split: Split) -> dict[str, list[str]]:
    """label -> why it is not clean (empty: clean) for every theorem of a valid/test split."""
    if split == "train":
        raise IlyaError("the train split has no clean flags: clean is a property of valid and test theorems")
    path = Path(data) / f"{split}.jsonl"
    if not path.is_file():
        raise IlyaError(f"no {split} split here: run `ilya prover dataset --out {data}` first", file=path)
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            d = json.loads(line)
            if "clean" not in d:
                raise IlyaError(f"the {split} split is not flagged yet: run `ilya prover dataset --out {data} "
                                "--clean-only` (no rebuild, ~1 min)", file=path, line=i)
            out[d["label"]] = list(d["flags"])
    return out


def dataset_command(cfg: DatasetConfig) -> dict[str, Any]:
    """`ilya prover dataset`: build the dataset, print its statistics beside the paper's."""
    if cfg.clean_only:
        report = mark_clean(load_database(None if cfg.db == DEFAULT_DB else cfg.db, cfg.out), cfg.out)
        report = {s: report[s] for s in ("valid", "test")}
        if not cfg.json:
            for s, c in report.items():
                print(f"{s}: {c['clean']} of {c['theorems']} theorems clean; flagged: "
                      + ", ".join(f"{c[r]} {r}" for r in REASONS)
                      + f" ({c['in_training_data']} in effect in the training data); details in {cfg.out}/clean.json")
        return report
    stats = build_dataset(load(cfg.db), cfg.out, cfg.valid, cfg.test, cfg.max_theorems or None,
                          cfg.max_steps_per_theorem)
    if not cfg.json:
        p = stats["paper"]
        print(f"{'':24}{'ours':>12}{'paper':>12}")
        print(f"{'theorems':24}{stats['theorems']:>12,}{p['theorems']:>12,}")
        print(f"{'proof steps':24}{stats['proof_steps']:>12,}{p['proof_steps']:>12,}")
        print(f"{'valid theorems':24}{stats['valid_theorems']:>12,}{p['valid_theorems']:>12,}")
        print(f"{'test theorems':24}{stats['test_theorems']:>12,}{p['test_theorems']:>12,}")
        print(f"train {stats['train_theorems']:,} theorems / {stats['train_steps']:,} steps; "
              f"{stats['unique_proof_steps']:,} of all {stats['proof_steps']:,} steps distinct within their theorem; "
              f"{stats['mean_goal_symbols']} symbols per goal; written to {cfg.out}/ in {stats['seconds']} s")
        c = stats["clean"]["test"]
        print(f"clean test split: {c['clean']} of {c['theorems']} ({c['in_training_data']} in effect in the "
              f"training data, {c['duplicate_earlier']} with an earlier duplicate); see {cfg.out}/clean.json")
    return stats

