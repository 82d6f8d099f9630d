"""The live Coq environment: Gymnasium's contract, rewards, refusals, timeouts, crashes and the pool."""

from __future__ import annotations

import os
import signal

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import ilya  # noqa: F401  (registers the ids)
from ilya.gamepad.env import POOL, CoqEnv, check_tactic


@pytest.fixture
def env() -> CoqEnv:
    e = CoqEnv(step_timeout=2.0)
    yield e
    e.close()


def test_check_env_and_registration() -> None:
    e = gym.make("ilya/Coq-v0")
    check_env(e.unwrapped, skip_render_check=True)
    e.close()


def test_proof_gets_reward_one_and_rejections_cost_and_keep_state(env: CoqEnv) -> None:
    obs, info = env.reset(options={"lemma": "forall n : nat, n + 0 = n"})
    assert "@eq nat (Nat.add n O) n" in obs and info["num_goals"] == 1
    obs2, r, term, _, info = env.step("reflexivity")  # needs induction: Coq says no
    assert r == env.penalty and not term and obs2 == obs and info["accepted"] is False
    assert "Unable to unify" in info["message"] or "unify" in info["message"]
    total = 0.0
    for tac in ("induction n", "reflexivity", "simpl", "rewrite IHn", "reflexivity"):
        obs, r, term, trunc, info = env.step(tac)
        total += float(r)
    assert term and total == 1.0 and info["proved"]


def test_refuses_admit_and_vernacular() -> None:
    for bad in ("admit", "Admitted.", "give_up", "Abort.", "Require Import Arith.", "Definition x := 1.",
                "idtac. idtac.", "exact (* open comment", "Ltac f := idtac."):
        tac, why = check_tactic(bad)
        assert tac is None and why, bad
    assert check_tactic("rewrite addnC")[0] == "rewrite addnC."


def test_corpus_lemma_by_name_and_timeout_recovers(env: CoqEnv) -> None:
    obs, _ = env.reset(options={"lemma": "plus_n_Sm"})  # Coq's Init.Peano lemma, by name
    assert "forall n m : nat, @eq nat (S (Nat.add n m)) (Nat.add n (S m))" in obs
    env.step("intros n m")
    before = env.goals_text
    _, r, term, _, info = env.step("do 2000000000 idtac")  # never ends in time (and cannot overflow the stack)
    assert r == env.penalty and not term and info.get("timeout")
    assert env.goals_text == before
    _, r, term, _, _ = env.step("apply plus_n_Sm")
    assert r == 1.0 and term


def test_crashed_coqtop_is_restarted_and_replayed(env: CoqEnv) -> None:
    env.reset(options={"lemma": "forall A B : Prop, A -> B -> A /\\ B"})
    env.step("intros A B a b")
    assert env.coq is not None and env.coq.pid is not None
    os.kill(env.coq.pid, signal.SIGKILL)
    _, r, _, _, info = env.step("split")
    assert info.get("crashed") and env.restarts >= 1
    # the replayed proof is where it was: split now works and the proof can finish
    _, r, _, _, info = env.step("split")
    assert info["accepted"] and info["num_goals"] == 2
    env.step("exact a")
    _, r, term, _, _ = env.step("exact b")
    assert r == 1.0 and term


def test_pool_bounds_live_processes() -> None:
    old = POOL.size
    envs = [CoqEnv(pool_size=2) for _ in range(3)]
    try:
        for e in envs:
            e.reset(options={"statement": "True"})
        alive = [e for e in envs if e.coq is not None and e.coq.alive()]
        assert len(alive) == 2 and envs[0].coq is None
        _, r, term, _, _ = envs[0].step("exact I")  # evicted: restarted and replayed on use
        assert r == 1.0 and term
        assert sum(e.coq is not None for e in envs) == 2
    finally:
        for e in envs:
            e.close()
        POOL.size = old
