"""Model-free policies: the frequency baseline (same search, no network) and an oracle for tests.

`FrequencyPolicy` proposes, for a goal, the assertions whose conclusion matches it
(`ilya.prover.matching`): those that need no invented term first, then by frequency in the train split's
proofs; variables the goal does not determine get the terms most often substituted for them in train.  Its log-probabilities are log relative frequencies, so the
same best-first search runs on it: the baseline isolates what the language model adds.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ilya.metamath import Database
from ilya.prover.dataset import TheoremRecord
from ilya.prover.format import Expr, ProofStep
from ilya.prover.search import Candidate


def frequency_table(records: Iterable[TheoremRecord], terms_per_var: int = 3) -> dict[str, Any]:
    """How often each label is applied in the records, and the most frequent terms for each of its variables."""
    freq: Counter = Counter()
    terms: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for rec in records:
        for _, step in rec.steps:
            freq[step.label] += 1
            for v, t in step.subst:
                terms[(step.label, v)][t] += 1
    out: dict[str, dict[str, list]] = defaultdict(dict)
    for (lab, v), c in terms.items():
        out[lab][v] = [[" ".join(t), n] for t, n in c.most_common(terms_per_var)]
    return {"labels": dict(freq), "terms": dict(out)}


# nats subtracted per variable the baseline must invent a term for.  Chosen on the valid split (100
# theorems, e=32, d=128; theorems proved for penalties 0/2/4/8/16/100: 0/3/3/6/7/7): without it the
# most frequent assertions (ax-mp, syl, ...), which need invented terms, crowd out specific lemmas.
FREE_PENALTY = 16.0


class FrequencyPolicy:
    """Steps by frequency in the train split (implements `ilya.prover.search.Policy`)."""

    def __init__(self, db: Database, records: list[TheoremRecord] | None = None, terms_per_var: int = 3,
                 table: dict[str, Any] | None = None, free_penalty: float = FREE_PENALTY) -> None:
        self.db, self.terms_per_var, self.free_penalty = db, terms_per_var, free_penalty
        if table is None:
            table = frequency_table(records or [], terms_per_var)
        freq: Counter = Counter(table["labels"])
        terms = {(lab, v): Counter({tuple(t.split()): n for t, n in pairs})
                 for lab, vs in table["terms"].items() for v, pairs in vs.items()}
        total = sum(freq.values()) or 1
        self.logf = {lab: math.log(n / total) for lab, n in freq.items()}
        self.unseen = math.log(0.5 / total)  # an assertion never used in train: below every used one
        self.terms = {k: [(t, math.log(n / sum(c.values()))) for t, n in c.most_common(terms_per_var)]
                      for k, c in terms.items()}

    @classmethod
    def from_data(cls, db: Database, data: Path) -> FrequencyPolicy:
        """The baseline of a dataset folder; its counts are cached in ``<data>/frequency.json``."""
        cache = Path(data) / "frequency.json"
        train = Path(data) / "train.jsonl"
        if cache.is_file() and train.is_file() and cache.stat().st_mtime >= train.stat().st_mtime:
            table = json.loads(cache.read_text())
        else:
            from ilya.prover.dataset import read_split

            table = frequency_table(read_split(Path(data), "train"))
            cache.write_text(json.dumps(table))
        return cls(db, table=table)

    def _candidates(self, goal: Expr, theorem: str, e: int) -> list[Candidate]:
        from ilya.prover.matching import matcher

        db = self.db
        before = db[theorem].index if theorem in db else None
        matches = matcher(db).matches(tuple(goal), before)
        matches.sort(key=lambda m: -self.logf.get(m.label, self.unseen) + self.free_penalty * len(m.free))
        out: list[Candidate] = []
        for m in matches:
            if len(out) >= e:
                break
            base = self.logf.get(m.label, self.unseen) - self.free_penalty * len(m.free)
            options: list[tuple[dict[str, Expr], float]] = [(dict(m.subst), base)]
            for v in m.free:  # the terms most often substituted for this variable of this assertion
                opts = self.terms.get((m.label, v), [])
                options = [({**s, v: t}, lp + tlp) for s, lp in options for t, tlp in opts]
            order = db[m.label].vars
            for s, lp in sorted(options, key=lambda x: -x[1]):
                out.append((ProofStep.make(m.label, {v: s[v] for v in order if v in s}), lp))
        out.sort(key=lambda c: -c[1])
        return out[:e]

    def propose(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        return [self._candidates(g, t, e) for g, t in zip(goals, theorems, strict=True)]

    def value(self, goals: list[Expr]) -> list[float]:
        raise NotImplementedError("the frequency baseline has no value function: use --priority logprob")


class OraclePolicy:
    """Knows the dataset's steps: proposes the right step (plus wrong ones) for goals it has seen."""

    def __init__(self, records: list[TheoremRecord], distractors: list[ProofStep] | None = None) -> None:
        self.known: dict[tuple[str, Expr], ProofStep] = {}
        for rec in records:
            for g, s in rec.steps:
                self.known.setdefault((rec.label, g), s)
        self.distractors = distractors or []

    def propose(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        out = []
        for g, t in zip(goals, theorems, strict=True):
            c: list[Candidate] = [(d, -0.1) for d in self.distractors]
            if (t, g) in self.known:
                c.append((self.known[(t, g)], -1.0))
            out.append(c[:e])
        return out

    def value(self, goals: list[Expr]) -> list[float]:
        known = {g for _, g in self.known}
        return [0.0 if g in known else -5.0 for g in goals]
