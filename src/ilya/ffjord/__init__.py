"""FFJORD: free-form continuous dynamics for scalable reversible generative models.

Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud 2018 (arXiv:1810.01367).
"""

from ilya.ffjord.cnf import (
           CNF,
           FlowConfig,
           SequentialFlow,
           SolverOptions,
           build_flow,
           standard_normal_logprob,
)
from ilya.ffjord.divergence import divergence_exact, divergence_hutchinson, sample_noise
from ilya.ffjord.layers import ODEnet
from ilya.ffjord.odefunc import ODEFunc

__all__ = ["CNF", "FlowConfig", "ODEFunc", "ODEnet", "SequentialFlow", "SolverOptions", "build_flow",
           "divergence_exact", "divergence_hutchinson", "sample_noise", "standard_normal_logprob"]
