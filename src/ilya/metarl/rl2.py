"""RL² (Duan et al. 2016) and E-RL² (Stadie et al. 2018, sec. 3): a recurrent policy as the learner.

A *trial* is ``n_episodes`` episodes in one world.  The GRU's hidden state is reset at the start of a
trial and kept across its episodes, and the policy sees the previous action and reward, so it can use
the early episodes to find out which world it is in.  RL² maximises the return of the whole trial.

E-RL² leaves the rewards of the first ``n_explore`` (exploratory) episodes out of the objective: the
agent still *observes* them, but is only paid for the later episodes, so the exploratory episodes are
free to gather information.  Credit still reaches exploratory actions, because the advantages are
computed over the whole trial (GAE with λ close to 1 across episode boundaries).
"""

from __future__ import annotations

import numpy as np
import torch


def objective_rewards(rewards: torch.Tensor, horizon: int, n_explore: int, explore_free: bool) -> torch.Tensor:
    """The rewards the policy is optimised for: all of them (RL²), or none from exploratory episodes (E-RL²).

    rewards (B, L) with episode e occupying steps [e * horizon, (e + 1) * horizon).
    """
    if not explore_free or n_explore <= 0:
        return rewards
    episode = torch.arange(rewards.shape[-1]) // horizon
    return rewards * (episode >= n_explore).to(rewards.dtype)


def episode_returns(rewards: np.ndarray, horizon: int) -> np.ndarray:
    """(B, L) trial rewards -> (B, n_episodes) returns of each episode."""
    B, L = rewards.shape
    return rewards.reshape(B, L // horizon, horizon).sum(-1)


def trial_dones(B: int, L: int) -> torch.Tensor:
    """The only 'done' inside a trial is its end: value bootstrapping runs across episode boundaries."""
    d = torch.zeros(B, L)
    d[:, -1] = 1.0
    return d
