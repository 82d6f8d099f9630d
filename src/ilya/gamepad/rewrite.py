"""Algebraic rewrite synthesis (the paper's section 4), every proof checked by Coq.

The algebra: a binary operation ``op`` on ``G`` with identity ``e`` and two involutions ``b`` and ``m``
(a free product of two copies of Z/2), stated as hypotheses of a Coq section::

    idl : forall x, op e x = x             idr : forall x, op x e = x
    bb  : op b b = e                       mm  : op m m = e
    assoc   : forall x y z, op (op x y) z = op x (op y z)
    assoc_l : forall x y z, op x (op y z) = op (op x y) z

A problem is ``Lemma pK : <term> = e`` where the term is made from ``e`` by random inverse rewrites
(so it is true).  A proof is a sequence of ``rewrite (rule args)`` steps ending in ``reflexivity``.
The scripted strategy cancels a ``b b`` / ``m m`` pair or drops an ``e`` when it can, and otherwise
rotates (``assoc`` / ``assoc_l``) the first adjacent equal pair of letters together.  The learned
tactic-and-argument predictor scores every applicable (rule, position) of the current goal from the
rule and the term's shape around the position, trained to pick the script's choice; at test time it
reads the goal back from Coq after each step and Coq checks the final ``Qed``.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

Term: TypeAlias = "str | tuple[Term, Term]"
RULES = ("bb", "mm", "idl", "idr", "assoc", "assoc_l")
PRELUDE = """Section Rewrite.
Variable G : Type.
Variable op : G -> G -> G.
Variables e b m : G.
Hypothesis idl : forall x, op e x = x.
Hypothesis idr : forall x, op x e = x.
Hypothesis bb : op b b = e.
Hypothesis mm : op m m = e.
Hypothesis assoc : forall x y z, op (op x y) z = op x (op y z).
Hypothesis assoc_l : forall x y z, op x (op y z) = op (op x y) z.
"""
Path = tuple[int, ...]


def text(t: Term) -> str:
    return t if isinstance(t, str) else f"(op {text(t[0])} {text(t[1])})"


def at(t: Term, p: Path) -> Term:
    for k in p:
        assert not isinstance(t, str)
        t = t[k]
    return t


def positions(t: Term, p: Path = ()) -> list[Path]:
    """Every position, preorder (parents before children, left before right)."""
    out = [p]
    if not isinstance(t, str):
        out += positions(t[0], (*p, 0)) + positions(t[1], (*p, 1))
    return out


def leaves(t: Term) -> list[str]:
    return [t] if isinstance(t, str) else leaves(t[0]) + leaves(t[1])


def size(t: Term) -> int:
    return 1 if isinstance(t, str) else 1 + size(t[0]) + size(t[1])


def instance(rule: str, s: Term) -> tuple[Term, Term, str] | None:
    """(lhs, rhs, Coq argument text) when ``rule`` rewrites the subterm ``s``, else None."""
    if isinstance(s, str):
        return None
    x, y = s
    if rule == "bb" and x == "b" and y == "b":
        return s, "e", "bb"
    if rule == "mm" and x == "m" and y == "m":
        return s, "e", "mm"
    if rule == "idl" and x == "e":
        return s, y, f"(idl {text(y)})"
    if rule == "idr" and y == "e":
        return s, x, f"(idr {text(x)})"
    if rule == "assoc" and not isinstance(x, str):
        return s, (x[0], (x[1], y)), f"(assoc {text(x[0])} {text(x[1])} {text(y)})"
    if rule == "assoc_l" and not isinstance(y, str):
        return s, ((x, y[0]), y[1]), f"(assoc_l {text(x)} {text(y[0])} {text(y[1])})"
    return None


def replace_all(t: Term, lhs: Term, rhs: Term) -> Term:
    """What ``rewrite`` does with a closed instance: every (outermost) occurrence replaced."""
    if t == lhs:
        return rhs
    if isinstance(t, str):
        return t
    return (replace_all(t[0], lhs, rhs), replace_all(t[1], lhs, rhs))


@dataclass(frozen=True)
class Action:
    rule: str
    pos: Path
    lhs: Term
    rhs: Term
    arg: str

    @property
    def tactic(self) -> str:
        return f"rewrite {self.arg}."


def candidates(t: Term) -> list[Action]:
    """Every applicable (rule, position), one per distinct rewrite (same instance = same tactic)."""
    out: list[Action] = []
    seen: set[str] = set()
    for p in positions(t):
        s = at(t, p)
        for r in RULES:
            inst = instance(r, s)
            if inst is not None and inst[2] not in seen:
                seen.add(inst[2])
                out.append(Action(r, p, inst[0], inst[1], inst[2]))
    return out


def apply(t: Term, a: Action) -> Term:
    return replace_all(t, a.lhs, a.rhs)


def generate(rng: random.Random, steps: int) -> Term:
    """A true problem: ``e`` expanded by ``steps`` random inverse rewrites (then ``= e``)."""
    t: Term = "e"
    for _ in range(steps):
        ps = positions(t)
        p = ps[rng.randrange(len(ps))]
        s = at(t, p)
        moves: list[Term] = [("e", s), (s, "e")]
        if s == "e":
            moves += [("b", "b"), ("m", "m")] * 2
        if not isinstance(s, str) and not isinstance(s[1], str):
            moves.append(((s[0], s[1][0]), s[1][1]))
        if not isinstance(s, str) and not isinstance(s[0], str):
            moves.append((s[0][0], (s[0][1], s[1])))
        if not isinstance(s, str):  # insert a cancelling pair next to a subterm
            letter = rng.choice("bm")
            moves.append((s, (letter, letter)))
        new = moves[rng.randrange(len(moves))]
        t = _put(t, p, new)
    return t if t != "e" else ("b", "b")


def _put(t: Term, p: Path, new: Term) -> Term:
    if not p:
        return new
    assert not isinstance(t, str)
    return (_put(t[0], p[1:], new), t[1]) if p[0] == 0 else (t[0], _put(t[1], p[1:], new))


def scripted(t: Term) -> Action:
    """The scripted strategy's next step (``t`` is not ``e``)."""
    cands = candidates(t)
    for rules in (("bb", "mm"), ("idl", "idr")):
        for a in cands:
            if a.rule in rules:
                return a
    word = leaves(t)
    i = next(k for k in range(len(word) - 1) if word[k] == word[k + 1])
    # the lowest node whose left part ends with leaf i and right part starts with leaf i+1
    p: Path = ()
    start = 0
    while True:
        s = at(t, p)
        assert not isinstance(s, str)
        nl = len(leaves(s[0]))
        if start + nl - 1 == i:
            break
        if i < start + nl:
            p = (*p, 0)
        else:
            p = (*p, 1)
            start += nl
    s = at(t, p)
    assert not isinstance(s, str)
    rule = "assoc" if not isinstance(s[0], str) else "assoc_l"
    inst = instance(rule, s)
    assert inst is not None
    return Action(rule, p, inst[0], inst[1], inst[2])


def script_proof(t: Term, limit: int = 500) -> list[Action]:
    out = []
    while t != "e" and len(out) < limit:
        a = scripted(t)
        out.append(a)
        t = apply(t, a)
    return out


# ---------------------------------------------------------------------------- the predictor
_SHAPE = ("none", "e", "b", "m", "op")
_WINDOW: list[Path] = [(), (0,), (1,), (0, 0), (0, 1), (1, 0), (1, 1),
                       (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]


def _shape(t: Term, p: Path) -> list[float]:
    out: list[float] = []
    for w in _WINDOW:
        s: Term | None = t
        try:
            s = at(t, (*p, *w))
        except (AssertionError, IndexError):
            s = None
        lab = "none" if s is None else ("op" if not isinstance(s, str) else s)
        out += [1.0 if lab == k else 0.0 for k in _SHAPE]
    return out


def features(t: Term, a: Action) -> list[float]:
    """Rule one-hot, the term's shape in a window at the position and at its parent, position facts."""
    rule = [1.0 if a.rule == r else 0.0 for r in RULES]
    parent = _shape(t, a.pos[:-1]) if a.pos else [0.0] * (len(_WINDOW) * len(_SHAPE))
    word = leaves(t)
    first_pair = next((k for k in range(len(word) - 1) if word[k] == word[k + 1]), -1)
    # where the position's leaves sit in the word, relative to the first adjacent equal pair
    before = sum(len(leaves(at(t, (*a.pos[:j], 0)))) for j in range(len(a.pos)) if a.pos[j] == 1)
    span = len(leaves(at(t, a.pos)))
    covers = float(first_pair >= 0 and before <= first_pair and first_pair + 1 < before + span)
    facts = [len(a.pos) / 10.0, span / 10.0, covers, float(a.pos[-1] == 0) if a.pos else 0.5]
    base = rule + _shape(t, a.pos) + parent + facts
    return base + [r * f for r in rule for f in facts]


@dataclass
class Predictor:
    model: Any

    def rank(self, t: Term) -> list[Action]:
        cands = candidates(t)
        if not cands:
            return []
        x = np.array([features(t, a) for a in cands])
        p = self.model.predict_proba(x)[:, 1]
        order = np.argsort(-p, kind="stable")
        return [cands[i] for i in order]


def train_predictor(problems: list[Term], seed: int) -> tuple[Predictor, dict[str, float]]:
    from sklearn.neural_network import MLPClassifier

    xs, ys, groups = [], [], []
    for g, t in enumerate(problems):
        cur = t
        for a in script_proof(t):
            for c in candidates(cur):
                xs.append(features(cur, c))
                ys.append(int(c.arg == a.arg))
                groups.append(g)
            cur = apply(cur, a)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=150, random_state=seed)
    clf.fit(np.array(xs), np.array(ys))
    pred = Predictor(clf)
    # step accuracy on the training states: is the top-ranked candidate the script's?
    hits = total = 0
    for t in problems[:100]:
        cur = t
        for a in script_proof(t):
            hits += int(pred.rank(cur)[0].arg == a.arg)
            total += 1
            cur = apply(cur, a)
    return pred, {"rows": float(len(ys)), "train_step_acc": hits / max(total, 1)}


# ---------------------------------------------------------------------------- synthesis in Coq
def goal_term(output: str) -> Term | None:
    """The left-hand side of the goal ``@eq G lhs e`` read back from Coq's display."""
    from ilya.gamepad.terms import TermTable, goal_count, parse_goals

    table = TermTable()
    if goal_count(output) == 0:
        return "e"
    parsed = parse_goals(output, table)
    if parsed is None or parsed[0] is None:
        return None
    concl = parsed[0].concl

    def conv(i: int) -> Term:
        lab, kids = table.nodes[i]
        if lab == "app" and table.label(kids[0]) == "op" and len(kids) == 3:
            return (conv(kids[1]), conv(kids[2]))
        if lab in ("e", "b", "m"):
            return lab
        raise ValueError(lab)

    lab, kids = table.nodes[concl]
    if lab != "app" or table.label(kids[0]) != "@eq":
        return None
    try:
        return conv(kids[2])
    except ValueError:
        return None


@dataclass
class Attempt:
    proved: bool
    steps: int
    tactics: list[str]
    message: str = ""


def synthesize(coq: Any, name: str, problem: Term, choose: Any, max_steps: int) -> Attempt:
    """Open ``name : problem = e`` in Coq, rewrite with ``choose(term, visited) -> Action`` until ``e = e``,
    then ``reflexivity. Qed.``; the proof counts only if Coq accepts the Qed."""
    base = coq.state
    ans = coq.send(f"Lemma {name} : {text(problem)} = e.")
    if ans.error:
        return Attempt(False, 0, [], ans.error)
    tactics: list[str] = []
    cur = goal_term(ans.output)
    visited: set[str] = set()
    ok = False
    msg = ""
    for _ in range(max_steps):
        if cur is None:
            msg = "could not read the goal"
            break
        if cur == "e":
            ok = True
            break
        visited.add(text(cur))
        a = choose(cur, visited)
        if a is None:
            msg = "no candidate"
            break
        ans = coq.send(a.tactic)
        if ans.error:
            msg = ans.error
            break
        tactics.append(a.tactic)
        cur = goal_term(ans.output)
    if ok:
        r = coq.send("reflexivity.")
        q = coq.send("Qed.") if r.error is None else r
        if q.error is None:
            return Attempt(True, len(tactics), tactics)
        msg = q.error
    coq.send("Abort.")
    del base
    return Attempt(False, len(tactics), tactics, msg or f"not proved in {max_steps} steps")


def rewrite_command(cfg: Any) -> dict[str, Any]:
    """`ilya gamepad rewrite`: problems -> scripted proofs -> predictor -> synthesized, Coq-checked proofs."""
    from ilya.core.figures import draw_run
    from ilya.core.progress import progress
    from ilya.core.runs import Run
    from ilya.gamepad.coqtop import Coqtop

    with Run.open("gamepad", cfg) as run:
        rng = random.Random(cfg.seed)
        train = [generate(rng, cfg.train_size) for _ in range(cfg.train_problems)]
        test = [generate(rng, cfg.test_size) for _ in range(cfg.test_problems)]
        t0 = time.time()
        pred, stats = train_predictor(train, cfg.seed)
        fit_s = time.time() - t0
        coq = Coqtop(timeout=60)
        try:
            for line in PRELUDE.strip().splitlines():
                coq.send(line)
            coq.send("Set Printing All.")
            coq.send("Set Printing Width 100000.")
            # the scripted proofs of the training problems, checked by Coq
            script_ok = 0
            for k, t in enumerate(progress(train[:100], desc="check scripts")):
                att = synthesize(coq, f"s{k}", t, lambda cur, seen: scripted(cur), 4 * cfg.max_steps)
                script_ok += att.proved
            results: dict[str, list[Attempt]] = {"model": [], "fallback": [], "script": []}

            def greedy(cur: Term, seen: set[str]) -> Action | None:
                ranked = pred.rank(cur)
                return ranked[0] if ranked else None

            def fallback(cur: Term, seen: set[str]) -> Action | None:
                ranked = pred.rank(cur)
                for a in ranked[: max(1, cfg.fallback_k)]:
                    if text(apply(cur, a)) not in seen:
                        return a
                return scripted(cur)

            for k, t in enumerate(progress(test, desc="synthesize")):
                results["model"].append(synthesize(coq, f"m{k}", t, greedy, cfg.max_steps))
                results["fallback"].append(synthesize(coq, f"f{k}", t, fallback, cfg.max_steps))
                results["script"].append(synthesize(coq, f"c{k}", t, lambda cur, seen: scripted(cur),
                                                    cfg.max_steps))
        finally:
            coq.close()
        from ilya.core.stats import rate

        out: dict[str, Any] = {"train_problems": len(train), "test_problems": len(test),
                               "scripted_train_checked": script_ok, "scripted_train_total": min(100, len(train)),
                               "fit_seconds": round(fit_s, 2), **stats}
        for key, atts in results.items():
            s = rate(sum(a.proved for a in atts), len(atts))
            out[f"{key}_proved"] = s.mean
            out[f"{key}_ci"] = [s.lo, s.hi]
            out[f"{key}_mean_steps"] = float(np.mean([a.steps for a in atts if a.proved])) if any(
                a.proved for a in atts) else None
        out["example_proof"] = next((a.tactics for a in results["model"] if a.proved), [])
        out["test_sizes"] = [size(t) for t in test]
        out["kind"] = "rewrite"
        run.log(1, **{"rewrite/model_proved": out["model_proved"], "rewrite/fallback_proved": out["fallback_proved"],
                      "rewrite/script_proved": out["script_proved"]})
        run.summary(**out)
        out["run"] = str(run.path)
    draw_run(run)
    print(f"rewrite synthesis on {len(test)} held-out problems: model alone {out['model_proved']:.1%}, with "
          f"fallback {out['fallback_proved']:.1%}, scripted {out['script_proved']:.1%} (every proof Qed-checked by "
          f"Coq) -> {run.path}", file=sys.stderr)
    return out
