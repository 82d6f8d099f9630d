# pyright: strict
"""The configs of ``ilya metamath ...`` (dataclasses and Literal types only: ``--help`` imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import tyro

from ilya.core.config import RunConfig
from ilya.core.data import metamath_database

DEFAULT_DB = metamath_database("set.mm", must_exist=False)
"""Debian's set.mm (package metamath-databases)"""

Backend = Literal["auto", "fast", "python"]
ShowFormat = Literal["steps", "tree", "normal", "compressed"]


@dataclass
class VerifyConfig:
    """Verify every proof of a Metamath file (exit 0: all verify, 1: some proof is wrong, 2: unreadable)."""

    file: Annotated[Path, tyro.conf.Positional] = DEFAULT_DB
    """the .mm file, or the name of one of Debian's databases (default: set.mm)"""
    label: list[str] = field(default_factory=lambda: [])
    """verify only these $p labels"""
    jobs: int = 1
    """parallel worker processes"""
    backend: Backend = "auto"
    """auto (compiled core when built, else python), fast or python"""
    json: bool = False
    """print one JSON object instead of text"""


@dataclass
class ShowConfig:
    """Show a statement, its frame and its proof (normal, compressed, or as GPT-f steps)."""

    label: Annotated[str, tyro.conf.Positional]
    """the statement's label"""
    db: Path = DEFAULT_DB
    """the .mm file (or a Debian database's name)"""
    format: ShowFormat = "steps"
    """steps (GPT-f |- steps: goal, label, substitution), tree (all steps, syntax included), normal or
    compressed"""
    limit: int = 40
    """print at most this many steps"""
    json: bool = False
    """print one JSON object instead of text"""


@dataclass
class StatsConfig:
    """Statement counts, proof lengths and their distributions (plots written under --out)."""

    db: Path = DEFAULT_DB
    """the .mm file (or a Debian database's name)"""
    out: Path | None = None
    """folder for the PNG plots (default: no plots)"""
    json: bool = False
    """print one JSON object instead of text"""


@dataclass
class DemoConfig(RunConfig):
    """The metamath step of `ilya demo` (a run named demo, started over each time)."""

    run: str | None = "demo"
    """run name under runs/metamath/"""
    fresh: bool = True
    """start the run over"""
