"""The scripted expert: a function of the environment's state, so DAgger can ask it from any state.

For the first stage not done (block X onto block Y) it: opens the gripper if it holds the wrong block or
closed on nothing; rises to a height that clears every tower; moves above X; descends (centring on the way once within 1.5 cm); closes; rises;
moves above Y; descends until X rests one block above Y; opens.  In ``full`` physics it waits for the
fingers to close on (or open from) the block before moving.
"""

from __future__ import annotations

import numpy as np

from ilya.imitation.env import MAX_MOVE, BlockStackEnv
from ilya.imitation.scene import BLOCK_HALF, FINGER_OPEN

XY_TOL = 0.004
"""centred enough to grasp or release"""
APPROACH_TOL = 0.015
"""within this (xy) of the goal the hand descends while it centres, so small errors need no climb back"""
Z_TOL = 0.004
CLEARANCE = 0.03


def _move(hand: np.ndarray, target: np.ndarray, grip: float) -> np.ndarray:
    d = np.clip((target - hand) / MAX_MOVE, -1.0, 1.0)
    return np.array([d[0], d[1], d[2], grip], dtype=np.float32)


def _travel(hand: np.ndarray, goal: np.ndarray, safe_z: float, grip: float) -> np.ndarray | None:
    """Go up to ``safe_z``, across, then down to ``goal``; None once at ``goal``."""
    xy_err = float(np.hypot(*(goal[:2] - hand[:2])))
    if xy_err > APPROACH_TOL:
        if hand[2] < safe_z - 0.01:
            # rise first (drifting across only once clear of the towers)
            return _move(hand, np.array([hand[0], hand[1], safe_z]), grip)
        return _move(hand, np.array([goal[0], goal[1], max(safe_z, goal[2])]), grip)
    if xy_err > XY_TOL or abs(goal[2] - hand[2]) > Z_TOL:
        return _move(hand, goal, grip)  # close above the goal: descend while centring
    return None


def expert_action(env: BlockStackEnv) -> np.ndarray:
    """The expert's action ``[dx, dy, dz, grip]`` in the environment's current state."""
    hand, pos, held = env.hand, env.block_pos(), env.held()
    stages = env.task.stages
    k = env.stages_done()
    full = env.physics == "full"
    opening = env.opening()
    if k >= len(stages):
        if held is not None or env.closed:
            return _move(hand, hand, -1.0)
        return _move(hand, hand + np.array([0.0, 0.0, 0.05]), -1.0)
    upper, lower = stages[k]
    others = np.delete(pos, [upper] if held is None else [held], axis=0)
    top = float(others[:, 2].max()) if len(others) else BLOCK_HALF
    if held is not None and held != upper:
        return _move(hand, hand, -1.0)
    if held is None:
        if env.closed:
            closing = opening > (BLOCK_HALF - 0.006) / FINGER_OPEN - 0.02
            near = np.all(np.abs(pos[upper] - hand) < 0.01)
            if full and closing and near:
                return _move(hand, hand, 1.0)  # wait for the fingers to close on the block
            return _move(hand, hand, -1.0)
        if full and opening < 0.9:
            return _move(hand, hand, -1.0)  # wait for the fingers to open
        safe_z = top + 2 * BLOCK_HALF + CLEARANCE + 0.02
        step = _travel(hand, pos[upper], safe_z, -1.0)
        return step if step is not None else _move(hand, hand, 1.0)
    # holding the right block: take it above its target
    offset = pos[upper] - hand
    goal = pos[lower] + np.array([0.0, 0.0, 2 * BLOCK_HALF + 0.002]) - offset
    safe_z = top + 2 * BLOCK_HALF + CLEARANCE - offset[2]
    step = _travel(hand, goal, safe_z, 1.0)
    return step if step is not None else _move(hand, hand, -1.0)


def run_expert(env: BlockStackEnv, seed: int | None = None, record: bool = True
               ) -> tuple[bool, int, np.ndarray, np.ndarray]:
    """One expert episode: (success, stages done, observations (T+1, D), actions (T, 4))."""
    obs, info = env.reset(seed=seed)
    observations, actions = [obs], []
    done = False
    while not done:
        a = expert_action(env)
        obs, _, term, trunc, info = env.step(a)
        done = term or trunc
        if record:
            observations.append(obs)
            actions.append(a)
    return bool(info["success"]), int(info["stages_done"]), np.asarray(observations), np.asarray(actions)
