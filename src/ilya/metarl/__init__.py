"""E-MAML and E-RL² (Stadie et al. 2018) with MAML and RL² baselines, on Krazy World and random mazes."""
