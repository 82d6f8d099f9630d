"""``ilya.prover``: GPT-f (Polu & Sutskever 2020) — proof-step language model, best-first search, assistant.

>>> from ilya.metamath import load
>>> from ilya.prover import Kernel, SearchConfig, search, FrequencyPolicy
>>> # db = load(); kernel = Kernel(db); search("syl", kernel.theorem("syl").goal, policy, kernel)

Pieces: `format` (the GOAL/PROOFSTEP text), `dataset` (steps of every set.mm proof, split by label hash),
`matching` (which assertions can prove a goal), `tokenizer` (BPE or characters), `model` (the ``ilya.nn`` decoder as policy and value), `search`
(best-first AND-OR search, lockstep batching), `kernel` (steps through ``ilya.metamath``, proof assembly),
`evaluate` (verified proofs, Ray workers, metamath-exe), `iterate` (value loop), `shorten`.
See docs/prover.md.
"""

from ilya.prover.baselines import FrequencyPolicy, OraclePolicy
from ilya.prover.dataset import TheoremRecord, build_dataset, read_split, split_of
from ilya.prover.format import ProofStep, example_text, parse_step, step_text
from ilya.prover.kernel import Kernel
from ilya.prover.matching import Match, Matcher, matcher
from ilya.prover.search import (
           Policy,
           ProofTree,
           SearchConfig,
           SearchResult,
           StepRejected,
           search,
           search_many,
)
from ilya.prover.slicing import slice_database

__all__ = ["FrequencyPolicy", "Kernel", "Match", "Matcher", "OraclePolicy", "Policy", "ProofStep", "ProofTree", "SearchConfig",
           "SearchResult", "StepRejected", "TheoremRecord", "build_dataset", "example_text", "matcher", "parse_step",
           "read_split", "search", "search_many", "slice_database", "split_of", "step_text"]
