"""Generated bad inputs: real proofs mutated in the ways a broken prover or a careless edit would."""

from __future__ import annotations

import random

from ilya.metamath import Database
from ilya.metamath.writer import render

PROOF_MUTATIONS = ("swap", "drop", "dup", "letter", "later", "wrong_float")


def mutate_proof(db: Database, rng: random.Random, kind: str | None = None) -> tuple[str, str, str]:
    """(mutation kind, theorem label, database text with that theorem's proof mutated)."""
    thms = [s for s in db.statements if s.kind == "p"]
    st = rng.choice(thms)
    kind = kind or rng.choice(PROOF_MUTATIONS)
    p = list(db.proof(st.label))
    earlier = [s.label for s in db.statements[:st.index] if s.kind in ("a", "p")] or [p[0]]
    i = rng.randrange(len(p))
    if kind == "swap":  # another label defined before the theorem
        p[i] = rng.choice(earlier)
    elif kind == "drop":
        del p[i]
    elif kind == "dup":
        p.insert(i, p[i])
    elif kind == "later":  # a label used before it is defined (the theorem itself or a later one)
        p[i] = rng.choice([s.label for s in db.statements[st.index:st.index + 50]])
    elif kind == "wrong_float":  # a variable hypothesis of the wrong type (or another variable)
        floats = [s.label for s in db.statements[:st.index] if s.kind == "f" and s.active_at(st.index)]
        p[i] = rng.choice(floats)
    if kind != "letter":
        return kind, st.label, render(db, {st.label: " ".join(p)})
    text = db.compress(p, st.label)
    head, _, letters = text.rpartition(")")
    chars = list(letters)
    pos = [k for k, c in enumerate(chars) if c.isalpha()]
    k = rng.choice(pos)
    chars[k] = rng.choice([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != chars[k]])
    return kind, st.label, render(db, {st.label: head + ")" + "".join(chars)})


def break_dv(db: Database, rng: random.Random) -> tuple[str, str] | None:
    """(theorem label, database text with one $d statement in the theorem's scope blanked out)."""
    cands = [s for s in db.statements if s.kind == "p" and s.all_dvs and s.source is db.sources[0]]
    if not cands:
        return None
    st = rng.choice(cands)
    src = st.source
    toks, offs = src.tokens, src.offsets()
    j = max(k for k in range(st.tok) if toks[k] == "$d")  # the last $d before the theorem
    end = toks.index("$.", j)
    a, b = offs[j], offs[end] + 2
    text = src.text[:a] + " " * (b - a) + src.text[b:]
    return st.label, text
