"""The GPT-f text format (paper §3.3, "proofstep objective"; §4 for the value objective).

A training example is one proof step of one theorem::

    GOAL |- ( ph -> ph ) PROOFSTEP mpd {{ ph : ph }} {{ ps : ( ph -> ph ) }} {{ ch : ph }}

For a theorem with ``$e`` hypotheses the prompt also shows them (``GOAL <goal> HYPS <hyps> PROOFSTEP``):
the terms a step must invent are very often a hypothesis's, and the search closes a goal that *is* a
hypothesis, so the policy should know them.

The model sees ``GOAL <goal> PROOFSTEP`` and learns to generate the applied assertion's label and one
substitution term for every mandatory variable of that assertion, in the order of its ``$f``
hypotheses, so it must *generate terms* (the paper's point), not only pick labels.  The value objective
(paper §4) uses the same model on ``GOAL <goal> VALUE`` followed by ``PROVABLE`` or ``UNPROVABLE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GOAL, HYPS, PROOFSTEP, VALUE = "GOAL", "HYPS", "PROOFSTEP", "VALUE"
PROVABLE, UNPROVABLE = "PROVABLE", "UNPROVABLE"
SUB_OPEN, SUB_SEP, SUB_CLOSE = "{{", ":", "}}"
KEYWORDS = (GOAL, HYPS, PROOFSTEP, VALUE, PROVABLE, UNPROVABLE, SUB_OPEN, SUB_CLOSE)
MAX_HYPS, MAX_HYP_SYMBOLS = 6, 120  # how much of a theorem's hypotheses a prompt shows

Expr = tuple[str, ...]


@dataclass(frozen=True)
class ProofStep:
    """One backward step: apply assertion ``label`` with ``subst`` (variable -> term, no typecode)."""

    label: str
    subst: tuple[tuple[str, Expr], ...] = field(default=())

    @classmethod
    def make(cls, label: str, subst: dict[str, Expr] | None = None) -> ProofStep:
        return cls(label, tuple((v, tuple(t)) for v, t in (subst or {}).items()))

    def subst_dict(self) -> dict[str, Expr]:
        return dict(self.subst)


def goal_text(goal: Expr) -> str:
    """``("|-", "(", "ph", ")")`` -> ``"|- ( ph )"``."""
    return " ".join(goal)


def prompt(goal: Expr, hyps: tuple[Expr, ...] | list[Expr] = ()) -> str:
    """What the policy is conditioned on: ``GOAL <goal> PROOFSTEP``, or, when the theorem being proved
    has ``$e`` hypotheses, ``GOAL <goal> HYPS <hyp> <hyp> ... PROOFSTEP`` (each hypothesis starts with
    ``|-``; at most `MAX_HYPS` of them and `MAX_HYP_SYMBOLS` symbols, the first ones that fit)."""
    shown, n = [], 0
    for h in hyps[:MAX_HYPS]:
        if n + len(h) > MAX_HYP_SYMBOLS:
            break
        shown.append(goal_text(h))
        n += len(h)
    if not shown:
        return f"{GOAL} {goal_text(goal)} {PROOFSTEP}"
    return f"{GOAL} {goal_text(goal)} {HYPS} {' '.join(shown)} {PROOFSTEP}"


def value_prompt(goal: Expr) -> str:
    """What the value head is conditioned on: ``GOAL <goal> VALUE``."""
    return f"{GOAL} {goal_text(goal)} {VALUE}"


def step_text(step: ProofStep) -> str:
    """The part the model generates: ``label {{ v : term }} ...``."""
    parts = [step.label]
    for var, term in step.subst:
        parts.append(f"{SUB_OPEN} {var} {SUB_SEP} {' '.join(term)} {SUB_CLOSE}")
    return " ".join(parts)


def example_text(goal: Expr, step: ProofStep, hyps: tuple[Expr, ...] | list[Expr] = ()) -> tuple[str, str]:
    """(prompt, completion) of one proof step; the loss is taken on the completion only."""
    return prompt(goal, hyps), " " + step_text(step)


def parse_step(text: str) -> ProofStep | None:
    """Parse a generated completion back into a `ProofStep`; None when it is not well formed.

    Malformed samples are normal during search (the model is a sampler): they are counted and dropped.
    """
    toks = text.split()
    if not toks or toks[0] in KEYWORDS or toks[0] in (SUB_SEP,):
        return None
    label, i, subst = toks[0], 1, []
    seen: set[str] = set()
    while i < len(toks):
        if toks[i] != SUB_OPEN or i + 2 >= len(toks) or toks[i + 2] != SUB_SEP:
            return None
        var = toks[i + 1]
        try:
            j = toks.index(SUB_CLOSE, i + 3)
        except ValueError:
            return None
        term = tuple(toks[i + 3:j])
        if not term or var in seen or any(t in KEYWORDS for t in term):
            return None
        seen.add(var)
        subst.append((var, term))
        i = j + 1
    return ProofStep(label, tuple(subst))
