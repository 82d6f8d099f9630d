"""``ilya/Coq-v0``: a live Coq proof as a Gymnasium environment.

* ``reset(options={"lemma": ...})`` opens a goal: a corpus lemma by name (``addnC``,
  ``mathcomp.ssreflect.ssrnat.addnC``: its statement is taken with ``type of @name``, so the proof cannot
  just cite it by its own statement) or a statement given as text (``forall n : nat, n + 0 = n``).
  ``options={"statement": ...}`` always reads the text as a statement.  Without options the env opens its
  ``lemma`` argument.
* ``step(tactic)``: the observation is the new goals as Coq prints them (``Set Printing All``);
  +1 when the proof is complete and ``Qed.`` is accepted (the episode terminates); a tactic Coq rejects
  costs ``penalty``, leaves the state unchanged and puts Coq's message in ``info["message"]``.
* Refused without being sent: anything that is not exactly one sentence, ``admit``/``Admitted``/
  ``give_up``/``Abort``, and every vernacular command (a sentence that starts with a capital letter:
  ``Require``, ``Definition``, ``Set``, ``Ltac``, ``Hint``...), so the environment cannot be changed.
* Each tactic runs under ``Timeout``; one that still does not answer within ``step_timeout + 10`` s has
  coqtop killed; a killed or crashed coqtop is restarted and the accepted tactics are replayed.
* Live coqtop processes are bounded by a pool (`CoqPool`, ``pool_size``): opening more envs closes the
  least recently used one's process, which is restarted and replayed when that env is used again.
"""

from __future__ import annotations

import re
import string
from collections import OrderedDict
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium import spaces

from ilya.core.errors import IlyaError
from ilya.gamepad.coqtop import Answer, CoqCrashed, CoqTimeout, Coqtop
from ilya.gamepad.sentences import split_sentences
from ilya.gamepad.terms import goal_count

CHARSET = frozenset(string.printable)
MAX_OBS = 200_000
MAX_ACTION = 400
PRELUDES: dict[str, tuple[str, ...]] = {
    "none": (),
    "ssreflect": ("From mathcomp Require Import all_ssreflect.",),
    "mathcomp": ("From mathcomp Require Import all_ssreflect all_fingroup all_algebra all_solvable "
                 "all_field all_character.", "Import GRing.Theory Num.Theory Order.Theory."),
}
_FORBIDDEN = re.compile(r"\b(admit|Admitted|give_up|Abort|Admit|Axiom|Drop|Reset|Back|BackTo|Undo|Restart)\b")
_NAME = re.compile(r"^[A-Za-z_][\w'.]*$")
_SHOW_HEAD = re.compile(r"^(\d+ goals?|No more goals)")
DEFAULT_LEMMA = "forall n : nat, n + 0 = n"


class CoqPool:
    """At most ``size`` live coqtop processes; the least recently used owner is evicted first."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.live: OrderedDict[int, CoqEnv] = OrderedDict()

    def touch(self, env: CoqEnv) -> None:
        self.live[id(env)] = env
        self.live.move_to_end(id(env))
        while len(self.live) > max(1, self.size):
            _, old = self.live.popitem(last=False)
            old._evict()

    def release(self, env: CoqEnv) -> None:
        self.live.pop(id(env), None)


POOL = CoqPool()


def sanitize(text: str, limit: int = MAX_OBS) -> str:
    return "".join(c if c in CHARSET else "?" for c in text[:limit])


def check_tactic(action: str) -> tuple[str | None, str]:
    """(the sentence to send, '') for an acceptable tactic, or (None, why it is refused)."""
    text = action.strip()
    if not text:
        return None, "empty tactic"
    if not text.endswith(".") and text not in ("-", "+", "*", "{", "}"):
        text += "."
    try:
        sents = split_sentences(text + "\n")
    except IlyaError as e:
        return None, f"not one sentence: {e.message}"
    if len(sents) != 1:
        return None, "exactly one tactic sentence per step"
    s = sents[0].text
    if _FORBIDDEN.search(s):
        return None, "admit, Admitted, give_up, Abort and commands that undo or add axioms are refused"
    first = s.lstrip("-+*{} ")[:1]
    if first.isupper():
        return None, "vernacular commands are refused: only tactics may change the proof"
    return s, ""


class CoqEnv(gym.Env[str, str]):
    """One Coq proof at a time; observation and action are text."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, lemma: str = DEFAULT_LEMMA, prelude: str = "none", step_timeout: float = 5.0,
                 max_steps: int = 50, penalty: float = -0.05, pool_size: int | None = None,
                 render_mode: str | None = None) -> None:
        if prelude not in PRELUDES:
            raise IlyaError(f"prelude {prelude!r}: expected one of {', '.join(PRELUDES)}")
        self.lemma = lemma
        self.prelude = prelude
        self.step_timeout = step_timeout
        self.max_steps = max_steps
        self.penalty = penalty
        self.render_mode = render_mode
        if pool_size is not None:
            POOL.size = pool_size
        self.observation_space = spaces.Text(max_length=MAX_OBS, min_length=0, charset="".join(sorted(CHARSET)))
        self.action_space = spaces.Text(max_length=MAX_ACTION, min_length=1,
                                        charset=string.ascii_letters + string.digits + " :=>/-_.()[]")
        self.coq: Coqtop | None = None
        self.base_state = 0
        self.statement = ""
        self.history: list[str] = []
        self.goals_text = ""
        self.steps = 0
        self.done = False
        self.restarts = 0

    # ------------------------------------------------------------------ process management
    def _start(self) -> Coqtop:
        coq = Coqtop(timeout=max(60.0, self.step_timeout + 10))
        for cmd in ("Set Printing All.", "Set Printing Width 100000.", *PRELUDES[self.prelude]):
            ans = coq.send(cmd, timeout=300)
            if ans.error:
                raise IlyaError(f"Coq refused {cmd!r}: {ans.error}")
        self.base_state = coq.state
        self.coq = coq
        return coq

    def _evict(self) -> None:
        if self.coq is not None:
            self.coq.kill()
            self.coq = None

    def _ensure(self) -> Coqtop:
        POOL.touch(self)
        if self.coq is None or not self.coq.alive():
            self._replay()
        assert self.coq is not None
        return self.coq

    def _replay(self) -> None:
        """A fresh coqtop with the lemma reopened and the accepted tactics replayed."""
        if self.coq is not None:
            self.coq.kill()
        self.restarts += 1
        coq = self._start()
        if self.statement:
            coq.send(self.statement)
            for tac in self.history:
                coq.send(tac, timeout=max(60.0, 4 * self.step_timeout))

    # ------------------------------------------------------------------ gym API
    def _statement(self, lemma: str) -> str:
        if _NAME.match(lemma):
            return f"Lemma ilya_goal : ltac:(let t := type of @{lemma} in exact t)."
        return f"Lemma ilya_goal : {lemma.strip().removesuffix('.')}."

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        opts = options or {}
        lemma = str(opts.get("statement", opts.get("lemma", self.lemma)))
        POOL.touch(self)
        if self.coq is None or not self.coq.alive():
            self.statement, self.history = "", []
            self._start()
        coq = self.coq
        assert coq is not None
        if coq.proofs:
            coq.send("Abort All.")
        coq.back_to(self.base_state)
        self.statement = self._statement(lemma) if "statement" not in opts else \
            f"Lemma ilya_goal : {lemma.strip().removesuffix('.')}."
        self.history = []
        self.steps = 0
        self.done = False
        ans = coq.send(self.statement)
        if ans.error is not None:
            self.statement = ""
            raise IlyaError(f"cannot open {lemma!r}: {ans.error}")
        self.goals_text = self._goals_display(ans)
        return sanitize(self.goals_text), self._info(ans, lemma=lemma)

    def _goals_display(self, ans: Answer) -> str:
        if _SHOW_HEAD.match(ans.output.strip()) or "subproof is complete" in ans.output:
            return ans.output.strip()
        assert self.coq is not None
        shown = self.coq.send("Show.")
        return shown.output.strip() if shown.error is None else ""

    def _info(self, ans: Answer | None, **extra: Any) -> dict[str, Any]:
        n = goal_count(self.goals_text)
        return {"goals": self.goals_text, "num_goals": n if n is not None else 0, "steps": self.steps,
                "history": list(self.history), "restarts": self.restarts, **extra}

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if self.done or not self.statement:
            raise RuntimeError("call reset() before step()")
        self.steps += 1
        truncated = self.steps >= self.max_steps
        tactic, why = check_tactic(str(action))
        if tactic is None:
            info = self._info(None, accepted=False, refused=True, message=why)
            return sanitize(self.goals_text), self.penalty, False, truncated, info
        coq = self._ensure()
        wrapped = tactic if tactic in ("-", "+", "*", "{", "}") or re.fullmatch(r"[-+*]+", tactic) \
            else f"Timeout {max(1, int(round(self.step_timeout)))} {tactic}"
        try:
            ans = coq.send(wrapped, timeout=self.step_timeout + 10)
        except (CoqTimeout, CoqCrashed) as e:
            self._replay()
            kind = "timeout" if isinstance(e, CoqTimeout) else "crashed"
            info = self._info(None, accepted=False, message=str(e), **{kind: True})
            return sanitize(self.goals_text), self.penalty, False, truncated, info
        if ans.error is not None:
            info = self._info(ans, accepted=False, message=ans.error, timeout="Timeout" in ans.error)
            if len(coq.proofs) == 0:  # should not happen: a failed tactic keeps the proof open
                self._replay()
            return sanitize(self.goals_text), self.penalty, False, truncated, info
        self.history.append(wrapped)
        self.goals_text = self._goals_display(ans)
        reward = 0.0
        terminated = False
        if goal_count(self.goals_text) == 0 and "No more goals" in self.goals_text:
            qed = coq.send("Qed.")
            if qed.error is None:
                reward, terminated, self.done = 1.0, True, True
            else:
                info = self._info(qed, accepted=True, message=f"Qed refused: {qed.error}")
                return sanitize(self.goals_text), reward, False, truncated, info
        info = self._info(ans, accepted=True, proved=terminated)
        return sanitize(self.goals_text), reward, terminated, truncated and not terminated, info

    # ------------------------------------------------------------------ search support
    def snapshot(self) -> tuple[int, int, list[str], str, int]:
        """The current proof state, to come back to with `restore` (best-first search)."""
        coq = self._ensure()
        return (self.restarts, coq.state, list(self.history), self.goals_text, self.steps)

    def restore(self, snap: tuple[int, int, list[str], str, int]) -> None:
        """Go back to a `snapshot` (``BackTo`` in the same coqtop; a replay after a restart)."""
        restarts, state, history, goals, steps = snap
        self.history, self.goals_text, self.steps, self.done = list(history), goals, steps, False
        coq = self._ensure()
        if restarts == self.restarts and coq.alive():
            if coq.state != state:
                coq.back_to(state)
        else:
            self._replay()

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return sanitize(self.goals_text)
        return None

    def close(self) -> None:
        POOL.release(self)
        self._evict()
        super().close()
