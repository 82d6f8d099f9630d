"""Clean valid/test splits: which held-out theorems are in effect in the training data.

A split by theorem is not enough on set.mm: many statements occur twice (a mathbox copy of a main-part
theorem, an ``ALT`` version, a theorem restated with its variables renamed), and a hypothesis-free
statement is often proved as an intermediate step inside another theorem's proof.  A held-out theorem
is *flagged* (not clean) when:

``duplicate_later_train``
    a train theorem *after* it has the same statement and ``$e`` hypotheses up to a renaming of the
    variables (type for type) and the order of the hypotheses: the model was trained on its proof;
``derived_in_train_proof``
    it has no ``$e`` hypotheses and a step of a train theorem's proof (earlier or later) has its
    statement, up to renaming, as its goal and proves it with another assertion than the theorem itself
    (a later proof that merely *cites* the theorem teaches nothing usable when proving it, since the
    theorem is unavailable there): the model was trained on a proof of the statement;
``duplicate_earlier``
    an assertion (``$a`` or ``$p``, any split) *before* it has the same statement and hypotheses: its
    proof is one citation.  Legitimate, but trivial.

``$d`` conditions are not compared.  `canonical` is the alpha-equivalence key: variables renamed
``<type>#k`` in the order of first occurrence (conclusion first, then the hypotheses), hypotheses
ordered by their shape; among hypotheses of the same shape every order is tried (at most
`MAX_ORDERS`) and the smallest renamed form is the key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from ilya.prover.format import Expr

REASONS = ("duplicate_later_train", "derived_in_train_proof", "duplicate_earlier")
"""flag names, in the order they are reported"""
MAX_ORDERS = 720
"""hypothesis orders tried for one statement (ties of shape); beyond it the shape order alone is used"""

Key = tuple[str, ...]


def _rename(seq: Iterable[Expr], vtype: Mapping[str, str]) -> Key:
    names: dict[str, str] = {}
    out: list[str] = []
    for i, e in enumerate(seq):
        if i:
            out.append("$e")
        for s in e:
            t = vtype.get(s)
            if t is None:
                out.append(s)
            else:
                n = names.get(s)
                if n is None:
                    n = names[s] = f"{t}#{len(names)}"
                out.append(n)
    return tuple(out)


def canonical(concl: Expr, hyps: list[Expr], vtype: Mapping[str, str]) -> Key:
    """The key of a statement up to renaming of variables (``vtype``: variable -> typecode) and the
    order of its hypotheses: equal keys iff alpha-equivalent (up to `MAX_ORDERS` tied orders)."""
    if not hyps:
        return _rename([concl], vtype)

    def shape(e: Expr) -> Key:
        return tuple("$" + vtype[s] if s in vtype else s for s in e)

    hs = sorted(hyps, key=shape)
    groups = [list(g) for _, g in itertools.groupby(hs, key=shape)]
    n_orders = 1
    for g in groups:
        for k in range(2, len(g) + 1):
            n_orders *= k
    if n_orders == 1 or n_orders > MAX_ORDERS:
        return _rename([concl, *hs], vtype)
    best: Key | None = None
    for perm in itertools.product(*(itertools.permutations(g) for g in groups)):
        key = _rename([concl, *(h for g in perm for h in g)], vtype)
        if best is None or key < best:
            best = key
    assert best is not None
    return best


def variable_types(floats: Iterable[tuple[str, str]]) -> dict[str, str]:
    """variable -> typecode from the database's ``$f`` statements ((typecode, variable) pairs)."""
    return {v: t for t, v in floats}


def leakage_flags(assertions: list[tuple[str, int, str, Key]], held_out: set[str],
                  train_steps: Iterable[tuple[int, str, Iterable[tuple[Key, str]]]], hyp_free: set[str]
                  ) -> tuple[dict[str, list[str]], dict[str, dict[str, str]], dict[str, int]]:
    """The flags of every held-out theorem, why, and the counts.

    ``assertions``: (label, index, split or "axiom", key) of every ``|-`` assertion in database order;
    ``held_out``: the valid/test labels to judge; ``train_steps``: (index, label, (key of the goal, label
    applied) of each step of its proof) of every train theorem; ``hyp_free``: the held-out labels without ``$e`` hypotheses.
    Returns ``flags`` (every held-out label -> its reasons, maybe none), ``details`` (label -> reason ->
    the other theorem: the first later train duplicate, the last earlier duplicate, the first train proof
    deriving it, and ``derived_in_later_train_proof``: the first later one) and ``counts`` (each reason, ``flagged``, ``clean``, ``in_training_data``, and the
    derived ones split by whether a later train proof derives them).
    """
    by_key: dict[Key, list[tuple[int, str, str]]] = {}
    for label, index, split, key in assertions:
        by_key.setdefault(key, []).append((index, split, label))
    found: dict[str, set[str]] = {lab: set() for lab in held_out}
    details: dict[str, dict[str, str]] = {}
    index_of: dict[str, int] = {}
    targets: dict[Key, list[str]] = {}
    for label, index, _, key in assertions:
        if label not in held_out:
            continue
        index_of[label] = index
        same = [(i, s, lab) for i, s, lab in by_key[key] if lab != label]
        later_train = [lab for i, s, lab in same if i > index and s == "train"]
        earlier = [lab for i, s, lab in same if i < index]
        if later_train:
            found[label].add("duplicate_later_train")
            details.setdefault(label, {})["duplicate_later_train"] = later_train[0]
        if earlier:
            found[label].add("duplicate_earlier")
            details.setdefault(label, {})["duplicate_earlier"] = earlier[-1]
        if label in hyp_free:
            targets.setdefault(key, []).append(label)
    derived_later: set[str] = set()
    for tindex, tlabel, steps in train_steps:
        for k, applied in steps:
            for lab in targets.get(k, ()):
                if applied == lab:  # a citation of the theorem, not a proof of it
                    continue
                found[lab].add("derived_in_train_proof")
                details.setdefault(lab, {}).setdefault("derived_in_train_proof", tlabel)
                if tindex > index_of[lab]:
                    derived_later.add(lab)
                    details[lab].setdefault("derived_in_later_train_proof", tlabel)
    flags = {lab: [r for r in REASONS if r in f] for lab, f in found.items()}
    counts: dict[str, int] = {r: sum(r in f for f in flags.values()) for r in REASONS}
    counts["derived_in_later_train_proof"] = len(derived_later)
    counts["in_training_data"] = sum(("duplicate_later_train" in f or "derived_in_train_proof" in f)
                                     for f in flags.values())
    counts["flagged"] = sum(bool(f) for f in flags.values())
    counts["clean"] = sum(not f for f in flags.values())
    return flags, details, counts
