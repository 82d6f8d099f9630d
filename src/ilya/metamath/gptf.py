# pyright: strict
"""GPT-f's text format for proof steps (Polu & Sutskever 2020, section 3.1).

The model reads a goal and writes a label with its substitution::

    GOAL |- ( ph -> ph ) PROOFSTEP ax-mp ph ( ph -> ( ph -> ph ) ) ps ( ph -> ph ) ...

Here a step is written ``GOAL <goal> PROOFSTEP <label> SUBST <var> <term> ; <var> <term> ;`` — the same
information, with explicit separators so that a term can always be read back.
"""

from __future__ import annotations

from ilya.metamath.errors import MetamathError
from ilya.metamath.proof import Step


def format_step(step: Step) -> str:
    subst = " ".join(f"{v} {' '.join(t)} ;" for v, t in step.subst.items())
    return f"GOAL {' '.join(step.goal)} PROOFSTEP {step.label}" + (f" SUBST {subst}" if subst else "")


def parse_step(text: str) -> Step:
    """Read back what `format_step` wrote (a model's output); `MetamathError` if malformed."""
    toks = text.split()
    try:
        g, p = toks.index("GOAL"), toks.index("PROOFSTEP")
    except ValueError:
        raise MetamathError(f"not a proof step (GOAL ... PROOFSTEP ...): {text[:80]!r}") from None
    goal = tuple(toks[g + 1:p])
    rest = toks[p + 1:]
    if not rest:
        raise MetamathError("proof step without a label")
    label = rest[0]
    subst: dict[str, tuple[str, ...]] = {}
    if len(rest) > 1:
        if rest[1] != "SUBST":
            raise MetamathError(f"expected SUBST after the label, found {rest[1]!r}")
        cur: list[str] = []
        for t in rest[2:]:
            if t == ";":
                if len(cur) < 2:
                    raise MetamathError("empty substitution term")
                subst[cur[0]] = tuple(cur[1:])
                cur = []
            else:
                cur.append(t)
        if cur:
            raise MetamathError("substitution not closed by ';'")
    return Step(goal, label, subst)
