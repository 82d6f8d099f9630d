"""Labels of the auxiliary loss (ours): the current stage's block to move and the block it goes on, from a state.

The scripted expert works on the first stage not done (`BlockStackEnv.stages_done`).  Here the same count is
made from an observation alone (hand position, opening, blocks relative to the hand), with the environment's
own tolerances: a stage holds when its upper block sits on its lower one and neither is held; a block is
held when the gripper is closed and the block is within grasp reach of the hand (the hybrid physics' weld).
"""

from __future__ import annotations

import numpy as np

from ilya.imitation.env import GRASP_TOL, PLACE_XY_TOL, PLACE_Z_TOL
from ilya.imitation.scene import BLOCK_HALF
from ilya.imitation.tasks import Task


def held_blocks(obs: np.ndarray) -> np.ndarray:
    """(N, D) observations -> (N,) index of the held block, -1 when none."""
    n = obs.shape[0]
    blocks = obs[:, 4:].reshape(n, -1, 4)
    rel, present = blocks[..., :3], blocks[..., 3] > 0.5
    near = np.all(np.abs(rel) < GRASP_TOL + 1e-3, axis=-1) & present & (obs[:, 3:4] < 0.5)
    dist = np.where(near, np.abs(rel).sum(-1), np.inf)
    return np.where(near.any(1), dist.argmin(1), -1)


def stages_done(obs: np.ndarray, task: Task) -> np.ndarray:
    """(N, D) observations -> (N,) completed stages, counted in order as the environment counts them."""
    n = obs.shape[0]
    rel = obs[:, 4:].reshape(n, -1, 4)[..., :3]
    held = held_blocks(obs)
    done = np.zeros(n, np.int64)
    going = np.ones(n, bool)
    for upper, lower in task.stages:
        d = rel[:, upper] - rel[:, lower]
        on = (np.hypot(d[:, 0], d[:, 1]) < PLACE_XY_TOL) & (np.abs(d[:, 2] - 2 * BLOCK_HALF) < PLACE_Z_TOL)
        going &= on & (held != upper) & (held != lower)
        done += going
    return done


def stage_labels(obs: np.ndarray, task: Task) -> np.ndarray:
    """(N, D) observations -> (N, 2): the block to move now and the block it goes on; -1, -1 once all are done."""
    k = stages_done(obs, task)
    table = np.asarray([*task.stages, (-1, -1)], np.int64)
    return table[k]
