"""GamePad (Huang, Dhariwal, Song & Sutskever 2018) on Debian's Coq: proof-state extraction, position
evaluation and tactic prediction, algebraic rewrite synthesis and a live Coq environment (``ilya/Coq-v0``).

Public API (importing this package imports no torch)::

    from ilya.gamepad import Coqtop, split_sentences, extract_file, load_corpus, TermTable
"""

from __future__ import annotations

from ilya.gamepad.coqtop import CoqTimeout, Coqtop
from ilya.gamepad.corpus import load_corpus
from ilya.gamepad.extract import extract_file
from ilya.gamepad.sentences import split_sentences
from ilya.gamepad.tactics import POSITION_BINS, TACTIC_CLASSES, position_bin, tactic_class
from ilya.gamepad.terms import TermTable, parse_term

__all__ = ["POSITION_BINS", "TACTIC_CLASSES", "CoqTimeout", "Coqtop", "TermTable", "extract_file",
           "load_corpus", "parse_term", "position_bin", "split_sentences", "tactic_class"]
