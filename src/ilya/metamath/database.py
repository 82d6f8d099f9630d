# pyright: strict
"""The Metamath database with its proof API: `load` a file, then ask for proofs, steps, checks, rewrites.

`Database` is the parsed database (`ilya.metamath.parse`: statements in order with their frames) plus
methods that call the proof API (`ilya.metamath.proof`), the checker (`ilya.metamath.verify`),
unification (`ilya.metamath.unify`) and the writer (`ilya.metamath.writer`).  Those modules know only
the parsed database, so imports go one way: parse -> verify -> proof/unify/writer -> database.
"""

from __future__ import annotations

from pathlib import Path

from ilya.core.data import metamath_database
from ilya.metamath.batch import VerifyReport, verify_database
from ilya.metamath.errors import MetamathError
from ilya.metamath.parse import Expr, ParsedDatabase, Statement, parse_file
from ilya.metamath.proof import (
    ProofNode,
    Step,
    compress,
    normal_proof,
    proof_from_steps,
    proof_steps,
    proof_tree,
    tree_to_rpn,
)
from ilya.metamath.unify import apply, grammar, syntax_proof
from ilya.metamath.verify import check_proof, verify_statement
from ilya.metamath.writer import write_database

DEFAULT_DB = metamath_database("set.mm", must_exist=False)
DEFAULT_DIR = DEFAULT_DB.parent

__all__ = ["DEFAULT_DB", "DEFAULT_DIR", "Database", "Expr", "Statement", "load", "locate"]


class Database(ParsedDatabase):
    """A parsed Metamath database and its proof API.  Use `load` to make one."""

    def proof(self, label: str) -> list[str]:
        return normal_proof(self, self[label])

    def proof_tree(self, label: str) -> ProofNode:
        return proof_tree(self, self[label])

    def proof_steps(self, label: str, only_provable: bool = False, unique: bool = False) -> list[Step]:
        return proof_steps(self, self[label], only_provable=only_provable, unique=unique)

    def verify(self, label: str) -> list[str]:
        """Check one ``$p``; raise `MetamathError` naming the reason if it is wrong, else return warnings."""
        return verify_statement(self, self[label])

    def verify_all(self, jobs: int = 1, labels: list[str] | None = None) -> VerifyReport:
        return verify_database(self, jobs=jobs, labels=labels)

    def apply(self, goal: Expr, label: str, subst: dict[str, Expr], before: str | None = None,
              hyps: list[Expr] | None = None) -> list[Expr]:
        return apply(self, goal, label, subst, before=before, hyps=hyps)

    def syntax_proof(self, expr: Expr, before: str | None = None) -> list[str]:
        return syntax_proof(self, expr, before=before)

    def parses(self, expr: Expr, before: str | None = None) -> bool:
        """Whether a typed term parses with the syntax axioms (e.g. ``("class", "A", "i^i", "B")``)."""
        return grammar(self).parse(tuple(expr), None if before is None else self[before].index) is not None

    def prove_tree_to_proof(self, tree: ProofNode) -> list[str]:
        return tree_to_rpn(tree)

    def proof_from_steps(self, theorem: str, steps: list[Step]) -> list[str]:
        """A full normal proof of ``theorem`` from its GPT-f (``|-``) steps; see `proof.proof_from_steps`."""
        return proof_from_steps(self, theorem, steps)

    def compress(self, labels: list[str], theorem: str) -> str:
        return compress(self, self[theorem], labels)

    def with_proof(self, label: str, new_proof_labels: list[str], check: bool = True) -> str:
        """Replace ``label``'s proof (for `write`); checked first unless ``check=False``.

        Returns the compressed proof text that `write` will put in the file.
        """
        st = self[label]
        if st.kind != "p":
            raise MetamathError(f"{label} is a ${st.kind} statement, not a $p: it has no proof")
        if check:
            check_proof(self, st, list(new_proof_labels))
        text = compress(self, st, list(new_proof_labels))
        self.replacements[label] = text
        return text

    def write(self, path: str | Path, replacements: dict[str, str] | None = None) -> Path:
        reps = dict(self.replacements)
        reps.update(replacements or {})
        return write_database(self, Path(path), reps)


def locate(path: str | Path | None) -> Path:
    """``path`` itself, or for a bare name that is no file here (``set.mm``, ``hol.mm``) Debian's database
    of that name (`ilya.core.data.metamath_database`); None: Debian's set.mm."""
    p = Path(path) if path is not None else DEFAULT_DB
    if not p.exists() and p.parent == Path("."):
        debian = metamath_database(str(p), must_exist=False)
        p = debian if debian.is_file() else p
    return p


def load(path: str | Path | None = None) -> Database:
    """Parse a Metamath file (default: Debian's set.mm; a bare name: see `locate`); raise `MetamathError`
    on any syntax error."""
    db = Database()
    parse_file(db, locate(path))
    return db
