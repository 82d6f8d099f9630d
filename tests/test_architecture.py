"""The layering every system follows (docs/architecture.md), checked on the source itself.

Every import counts, at module level or inside a function: a lazy import still couples two files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ilya"
SYSTEMS = ("metamath", "prover", "sparse", "ffjord", "metarl", "gamepad", "imitation", "five")
HEAVY = ("torch", "numpy", "ray", "matplotlib", "gymnasium", "pettingzoo", "mujoco", "sklearn", "scipy")


def _modules() -> dict[str, Path]:
    mods = {}
    for f in SRC.rglob("*.py"):
        parts = list(f.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


MODS = _modules()


def _imports(name: str, f: Path) -> set[str]:
    """Every module name ``name`` imports (absolute, relative resolved), anywhere in the file."""
    pkg = name if f.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


GRAPH = {m: _imports(m, f) for m, f in MODS.items()}


def _internal(targets: set[str]) -> set[str]:
    return {t for t in targets if t in MODS}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one file (package __init__ files left out)."""
    files = {m for m, f in MODS.items() if f.name != "__init__.py"}
    g = {m: {t for t in _internal(GRAPH[m]) if t in files and t != m} for m in files}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def _system(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SYSTEMS else None


def test_no_two_files_import_each_other() -> None:
    assert _cycles() == []


def test_no_library_module_imports_a_cli() -> None:
    bad = [f"{m} -> {t}" for m, ts in GRAPH.items() for t in _internal(ts)
           if t.endswith(".cli") and not m.endswith(".cli") and m != "ilya.__main__"]
    assert bad == []


def test_core_and_nn_import_no_system() -> None:
    bad = [f"{m} -> {t}" for m, ts in GRAPH.items() if m.startswith(("ilya.core", "ilya.nn"))
           for t in ts if _system(t) is not None or t == "ilya.cli"]
    assert bad == []


def test_systems_use_each_other_only_through_the_public_package() -> None:
    bad = []
    for m, ts in GRAPH.items():
        here = _system(m)
        for t in _internal(ts):
            there = _system(t)
            if here and there and here != there and t != f"ilya.{there}":
                bad.append(f"{m} -> {t}")
    assert bad == []


@pytest.mark.parametrize("system", [s for s in SYSTEMS if f"ilya.{s}.config" in MODS])
def test_config_is_light(system: str) -> None:
    """config.py holds dataclasses and Literal types: it imports no heavy library and no library module."""
    mod = f"ilya.{system}.config"
    heavy = sorted(t for t in GRAPH[mod] if t.split(".")[0] in HEAVY)
    inside = sorted(t for t in _internal(GRAPH[mod])
                    if _system(t) == system and not t.endswith(".config") and t != f"ilya.{system}")
    assert (heavy, inside) == ([], [])


@pytest.mark.parametrize("system", [s for s in SYSTEMS if f"ilya.{s}.cli" in MODS])
def test_cli_only_dispatches(system: str) -> None:
    """A system's cli.py imports only core, its config (and other systems' configs), never its library."""
    mod = f"ilya.{system}.cli"
    allowed_prefixes = ("ilya.core.commands", "ilya.core.config", "ilya.core.errors")
    bad = sorted(t for t in _internal(GRAPH[mod])
                 if not t.endswith(".config") and not t.startswith(allowed_prefixes) and t != "ilya")
    heavy = sorted(t for t in GRAPH[mod] if t.split(".")[0] in HEAVY)
    assert (bad, heavy) == ([], [])


def test_the_checker_sees_lazy_imports_and_circles(tmp_path: Path) -> None:
    """The graph builder counts function-level imports (so the checks above can fail)."""
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from ilya.core import runs\n    import torch\n")
    assert {"ilya.core", "ilya.core.runs", "torch"} <= _imports("ilya.x.m", f)
