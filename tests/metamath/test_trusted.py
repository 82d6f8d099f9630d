"""The checker (verify.py) depends on nothing of the package but the parsed database: what a reviewer
must trust stays those few files (docs/metamath.md, "What a reviewer must trust")."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ilya" / "metamath"
TRUSTED = {"verify": {"ilya.metamath.parse", "ilya.metamath.errors"},
           "parse": {"ilya.metamath.source", "ilya.metamath.errors"},
           "source": {"ilya.metamath.errors"}, "errors": {"ilya.core.errors"}}


def _ilya_imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ilya"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("ilya")}
    return out


def test_the_checker_reads_only_the_parsed_database():
    for name, allowed in TRUSTED.items():
        assert _ilya_imports(SRC / f"{name}.py") == allowed, name


def test_run_proof_is_split_into_short_functions():
    tree = ast.parse((SRC / "verify.py").read_text())
    sizes = {f.name: f.end_lineno - f.lineno + 1 for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert {"run_proof", "_assertion_step", "_substitution", "_check_essentials", "_check_disjoint",
            "final_check"} <= set(sizes)
    assert max(sizes.values()) <= 60, sizes
