"""RL² (Duan et al. 2016) and E-RL² (Stadie et al. 2018, sec. 3): a recurrent policy as the learner.

A *trial* is ``n_episodes`` episodes in one world.  The GRU's hidden state is reset at the start of a
trial and kept across its episodes, and the policy sees the previous action and reward, so it can use
the early episodes to find out which world it is in.  RL² maximises the return of the whole trial.

E-RL² leaves the rewards of the first ``n_explore`` (exploratory) episodes out of the objective: the
agent still *observes* them, but is only paid for the later episodes, so the exploratory episodes are
free to gather information.  Credit still reaches exploratory actions, because the advantages are
computed over the whole trial (GAE with λ close to 1 across episode boundaries).

A trial's episodes lie back to back (`ilya.metarl.sampling.rollout_rnn`): each step carries the index of
its episode, and the only padding is after the trial's last episode.
"""

from __future__ import annotations

import numpy as np
import torch


def objective_rewards(rewards: torch.Tensor, episode: torch.Tensor, n_explore: int,
                      explore_free: bool) -> torch.Tensor:
    """The rewards the policy is optimised for: all of them (RL²), or none from exploratory episodes (E-RL²).

    rewards, episode (B, L): each step's reward and the index of the episode it belongs to.
    """
    if not explore_free or n_explore <= 0:
        return rewards
    return rewards * (episode >= n_explore).to(rewards.dtype)


def episode_returns(rewards: np.ndarray, episode: np.ndarray, n_episodes: int) -> np.ndarray:
    """(B, L) trial rewards and episode indices -> (B, n_episodes) returns of each episode."""
    B = rewards.shape[0]
    out = np.zeros((B, n_episodes + 1), np.float64)
    np.add.at(out, (np.repeat(np.arange(B), rewards.shape[1]), np.minimum(episode, n_episodes).reshape(-1)),
              rewards.reshape(-1))
    return out[:, :n_episodes]


def trial_dones(mask: torch.Tensor) -> torch.Tensor:
    """(B, L) 1 at the last real step of each trial, its only 'done': value bootstrapping runs across
    episode boundaries, and nothing flows back from the padding after the trial."""
    B, L = mask.shape
    last = (mask.sum(-1).long() - 1).clamp(0, L - 1)
    d = torch.zeros(B, L)
    d[torch.arange(B), last] = 1.0
    return d
