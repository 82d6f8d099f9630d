"""Model-guided best-first proof search in ``ilya/Coq-v0``, and its success rate on held-out lemmas.

The tactic-prediction model gives P(class | proof state); each class has a few argument-free SSReflect
tactics (`CANDIDATES`) and the most frequent tactic sentences of that class in the training split
(`data_candidates`), and a child's cost is its parent's plus ``-log P(class) + log(len(class tactics))``.
The cheapest open state is expanded next (every candidate tactic is tried from it: ``BackTo`` returns
coqtop to the state between tries), until a tactic closes the proof and ``Qed`` is accepted or the
budget of expansions runs out.  The lemmas are the test split of the dataset, opened by name in a Coq
with all of mathcomp loaded (their statement via ``type of @name``: the search never sees their proof,
and no candidate names a lemma).
"""

from __future__ import annotations

import heapq
import math
import random
import sys
import time
from typing import Any

import numpy as np

from ilya.core.errors import IlyaError
from ilya.gamepad.dataset import Example, Store, load_dataset, resolve_data
from ilya.gamepad.tactics import TACTIC_CLASSES
from ilya.gamepad.terms import TermTable, parse_goals

CANDIDATES: dict[str, tuple[str, ...]] = {
    "by": ("by []", "done", "by move=> *", "by case", "by elim", "by rewrite /=", "by apply/eqP",
           "by move=> ->", "by case: ifP"),
    "intro": ("move=> *", "move=> ?", "move=> x", "move=> [] *"),
    "move": ("move/eqP", "move=> ->", "move=> <-"),
    "case": ("case", "case=> *", "case: ifP"),
    "elim": ("elim", "elim=> *"),
    "simpl": ("rewrite /=", "simpl", "rewrite //="),
    "rewrite": ("rewrite //", "rewrite /= //"),
    "split": ("split", "constructor", "left", "right"),
    "apply": ("apply/eqP", "apply/idP", "apply/andP", "apply/negP"),
    "auto": ("auto", "intuition", "tauto"),
    "exact": ("exact: eqxx", "exact: leqnn", "exact: erefl"),
    "have": (), "exists": (), "other": ("trivial", "reflexivity", "congruence"),
}


def data_candidates(store: Store, per_class: int) -> dict[str, tuple[str, ...]]:
    """`CANDIDATES` plus, per class, the ``per_class`` most frequent whole tactic sentences of the training
    split of at most four words (``by case: b``, ``exact: val_inj``...): the corpus's own tactics."""
    from collections import Counter

    counts: dict[str, Counter[str]] = {c: Counter() for c in TACTIC_CLASSES}
    for e in store.split("train"):
        t = e.tactic_text.removesuffix(".")
        if t and len(t.split()) <= 4 and ";" not in t:  # short, general sentences only
            counts[TACTIC_CLASSES[e.tactic]][t] += 1
    out: dict[str, tuple[str, ...]] = {}
    for c in TACTIC_CLASSES:
        common = [t for t, k in counts[c].most_common(per_class) if k >= 3]
        out[c] = tuple(dict.fromkeys([*CANDIDATES.get(c, ()), *common]))
    return out


def state_example(goals_text: str) -> tuple[Store, Example] | None:
    """Coq's goal display -> a one-example `Store` (for the trained predictors)."""
    table = TermTable()
    parsed = parse_goals(goals_text, table)
    if parsed is None or parsed[0] is None:
        return None
    g = parsed[0]
    store = Store(labels=[lab for lab, _ in table.nodes], children=[k for _, k in table.nodes])
    ex = Example([g.concl] + [t for _, t, _ in reversed(g.hyps)], 0, 0, "test", "", 0)
    return store, ex


class Policy:
    """P(class | state): a trained tactic model's softmax, or the class frequencies of the data."""

    def __init__(self, model: Any | None, prior: np.ndarray) -> None:
        self.model = model
        self.prior = prior

    def probs(self, goals_text: str) -> np.ndarray:
        if self.model is None:
            return self.prior
        got = state_example(goals_text)
        if got is None:
            return self.prior
        s = self.model.scores(got[0], [got[1]])[0]
        s = np.where(s < -1e8, -1e9, s)
        z = np.exp(2.0 * (s - s.max()))
        return 0.5 * z / z.sum() + 0.5 * self.prior


def best_first(env: Any, policy: Policy, expansions: int,
               candidates: dict[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """Search from the env's current (just reset) state; returns proved, the proof and counts."""
    cands = CANDIDATES if candidates is None else candidates
    t0 = time.time()
    root = env.snapshot()
    frontier: list[tuple[float, int, Any, list[str]]] = [(0.0, 0, root, [])]
    seen = {env.goals_text}
    tick = 0
    tried = 0
    for _ in range(expansions):
        if not frontier:
            break
        cost, _, snap, proof = heapq.heappop(frontier)
        env.restore(snap)
        p = policy.probs(env.goals_text)
        for k, cls in enumerate(TACTIC_CLASSES):
            tacs = cands.get(cls, ())
            for tac in tacs:
                env.restore(snap)
                _, r, term, _, info = env.step(tac)
                tried += 1
                if term and float(r) > 0:
                    return {"proved": True, "proof": [*proof, tac], "tried": tried, "seconds": time.time() - t0}
                if not info.get("accepted") or env.goals_text in seen:
                    continue
                seen.add(env.goals_text)
                tick += 1
                child = cost - math.log(max(float(p[k]), 1e-6)) + math.log(len(tacs))
                heapq.heappush(frontier, (child, tick, env.snapshot(), [*proof, tac]))
    return {"proved": False, "proof": [], "tried": tried, "seconds": time.time() - t0}


def held_out_lemmas(store: Store, n: int, seed: int) -> list[str]:
    names = sorted({e.lemma for e in store.split("test")})
    random.Random(seed).shuffle(names)
    return names[:n]


def qualified(lemma: str) -> str:
    """``ssreflect/ssrnat.v:addnC`` -> ``mathcomp.ssreflect.ssrnat.addnC``."""
    file, _, name = lemma.partition(":")
    return "mathcomp." + file.removesuffix(".v").replace("/", ".") + "." + name


def search_command(cfg: Any) -> dict[str, Any]:
    """`ilya gamepad search`: best-first search on held-out lemmas; the success rate with a Wilson interval."""
    from ilya.core.progress import progress
    from ilya.core.runs import Run
    from ilya.core.stats import rate
    from ilya.gamepad.dataset import class_counts
    from ilya.gamepad.env import CoqEnv
    from ilya.gamepad.predict import load_predictor

    store = load_dataset(resolve_data(cfg.data))
    counts = np.asarray(class_counts(store.split("train"), "tactic"), dtype=float) + 1.0
    model = None
    if cfg.run is not None:
        run = Run.load(cfg.run, cfg.runs_dir, system="gamepad")
        if run.config.get("task") != "tactic":
            raise IlyaError(f"run {run.name} is not a tactic-prediction run", file=run.path / "config.json")
        model = load_predictor(run, store)
    policy = Policy(model, counts / counts.sum())
    cands = data_candidates(store, cfg.per_class)
    env = CoqEnv(prelude="mathcomp", step_timeout=cfg.step_timeout, max_steps=10_000)
    rows: list[dict[str, Any]] = []
    try:
        for lemma in progress(held_out_lemmas(store, cfg.lemmas, cfg.seed), desc="search"):
            err = ""
            for name in (qualified(lemma), lemma.partition(":")[2]):  # the short name when it is in a module
                try:
                    env.reset(options={"lemma": name})
                    err = ""
                    break
                except IlyaError as e:
                    err = str(e)[:200]
            if err:
                rows.append({"lemma": lemma, "opened": False, "proved": False, "message": err})
                continue
            res = best_first(env, policy, cfg.expansions, cands)
            rows.append({"lemma": lemma, "opened": True, **res})
    finally:
        env.close()
    opened = [r for r in rows if r["opened"]]
    s = rate(sum(r["proved"] for r in opened), len(opened))
    out = {"lemmas": len(rows), "opened": len(opened), "proved": sum(r["proved"] for r in opened),
           "success_rate": s.mean, "ci": [s.lo, s.hi], "policy": cfg.run or "class frequencies",
           "expansions": cfg.expansions, "candidates": sum(len(v) for v in cands.values()), "results": rows,
           "seconds_per_lemma": float(np.mean([r["seconds"] for r in opened])) if opened else None}
    if not cfg.json:
        for r in rows:
            if r["proved"]:
                print(f"  proved {r['lemma']}: {' ; '.join(r['proof'])}")
    print(f"best-first search ({out['policy']}, {cfg.expansions} expansions): proved {out['proved']} of "
          f"{len(opened)} held-out lemmas ({s.mean:.1%}, 95% CI {s.lo:.1%}-{s.hi:.1%}); "
          f"{len(rows) - len(opened)} could not be opened by name", file=sys.stderr)
    return out
