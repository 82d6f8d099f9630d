"""``ilya.metamath``: a Metamath kernel (parser, verifier, proof API, writer) — GPT-f's substrate.

>>> from ilya.metamath import load, unify
>>> db = load("demo0.mm")          # a bare name: Debian's /usr/share/metamath/databases/demo0.mm
>>> db["th1"].expr
('|-', 't', '=', 't')
>>> [s.label for s in db.proof_steps("th1")][:3]
['mp', 'weq', 'tpl']

See docs/metamath.md for the whole API (and which files a reviewer of the checker must trust).
"""

from ilya.metamath.batch import VerifyReport
from ilya.metamath.database import DEFAULT_DB, Database, Statement, load
from ilya.metamath.errors import MetamathError
from ilya.metamath.proof import ProofNode, Step, compress, encode_number, tree_to_rpn
from ilya.metamath.unify import Grammar, apply, grammar, syntax_proof, unify
from ilya.metamath.verify import ProofError, check_proof

__all__ = ["DEFAULT_DB", "Database", "Grammar", "MetamathError", "ProofError", "ProofNode", "Statement",
           "Step", "VerifyReport", "apply", "check_proof", "compress", "encode_number", "grammar", "load",
           "syntax_proof", "tree_to_rpn", "unify"]
