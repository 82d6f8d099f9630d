"""The one ``ilya`` command.

``ilya <system> <command> [flags]`` runs a system's command; ``ilya plot|report|runs|demo`` work on runs.
Each command is a config dataclass plus a function: ``tyro`` turns the dataclass into flags (with their
defaults and docstrings in ``--help``), so no command parses arguments by hand.  A system exposes its
commands as ``COMMANDS = {"name": (ConfigClass, function)}`` in ``ilya/<system>/cli.py``, and optionally
``demo(runs_dir)`` (its step of ``ilya demo``) and ``replot(run)`` (its paper figures for ``ilya plot``).

A command function returns ``None``, an exit code, or a dict of figures (printed as one JSON object on
stdout when its config has ``json=True``).  An `IlyaError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import tyro

from ilya import __version__
from ilya.core.errors import IlyaError

# system -> (module holding COMMANDS, one line for `ilya --help`); order is the order of `ilya demo`.
GROUPS: dict[str, tuple[str, str]] = {
    "metamath": ("ilya.metamath.cli", "Metamath kernel: parse, verify, proof API, statistics (GPT-f's substrate)"),
    "sparse": ("ilya.sparse.cli", "Sparse Transformer: strided/fixed attention, byte and image density models"),
    "prover": ("ilya.prover.cli", "GPT-f: proof-step language model, best-first proof search, shorter proofs"),
    "ffjord": ("ilya.ffjord.cli", "FFJORD: continuous normalizing flows with Hutchinson's trace estimator"),
    "metarl": ("ilya.metarl.cli", "E-MAML and E-RL2: meta-RL exploration on Krazy World and mazes"),
    "gamepad": ("ilya.gamepad.cli", "GamePad: a learning environment over real Coq proofs"),
    "imitation": ("ilya.imitation.cli", "One-shot imitation learning on block stacking"),
    "five": ("ilya.five.cli", "OpenAI Five's recipe: self-play PPO with LSTM policies"),
}

Command = tuple[type, Callable[[Any], Any]]


def _system_module(system: str) -> ModuleType | None:
    """The system's cli module, or None when that system is not built (yet) in this install."""
    modname = GROUPS[system][0]
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and (modname == e.name or modname.startswith(e.name + ".")):
            return None
        raise


# ---------------------------------------------------------------------------- run-level commands
@dataclass
class PlotConfig:
    """Draw the metric curves of one or several runs on shared axes (PNGs under each run's plots/)."""

    runs: Annotated[list[str], tyro.conf.Positional]
    """runs to draw, as system/name or a run folder"""
    x: str = "step"
    """x axis: step or wall (wall-clock seconds)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def plot_command(cfg: PlotConfig) -> None:
    from ilya.core.plotting import plot_metrics
    from ilya.core.runs import Run

    if cfg.x not in ("step", "wall"):
        raise IlyaError(f"--x {cfg.x}: expected step or wall")
    runs = [Run.load(r, cfg.runs_dir) for r in cfg.runs]
    paths = plot_metrics(runs, x=cfg.x)
    for run in runs:
        mod = _system_module(run.system) if run.system in GROUPS else None
        if mod is not None and hasattr(mod, "replot"):
            paths += list(mod.replot(run) or [])
    for p in paths:
        print(p)


@dataclass
class ReportConfig:
    """Write one static HTML page with every run: system, config, final figures, plots, status."""

    out: Path | None = None
    """where to write the page (default: <runs-dir>/report.html)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def report_command(cfg: ReportConfig) -> None:
    from ilya.core.report import write_report

    print(write_report(cfg.runs_dir, cfg.out))


@dataclass
class RunsConfig:
    """List runs as a table."""

    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""
    json: bool = False
    """print one JSON object instead of a table"""


def runs_command(cfg: RunsConfig) -> dict[str, Any] | None:
    from ilya.core.runs import Run

    rows = []
    for run in Run.all(cfg.runs_dir):
        metrics = run.metrics()
        rows.append({"system": run.system, "name": run.name, "status": run.status(),
                     "steps": max((int(r["step"]) for r in metrics), default=0),
                     "wall_s": max((float(r.get("wall", 0)) for r in metrics), default=0.0),
                     "plots": len(run.plots())})
    if cfg.json:
        return {"runs": rows}
    if not rows:
        print(f"no runs under {cfg.runs_dir}/")
        return None
    cols = ["system", "name", "status", "steps", "wall_s", "plots"]
    table = [[str(r[c]) if c != "wall_s" else f"{r[c]:.1f}" for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)))
    return None


@dataclass
class DemoConfig:
    """A guided tour: runs the real thing for every system, then writes the HTML report."""

    only: list[str] = field(default_factory=list)
    """run only these systems' steps (default: all)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def demo_command(cfg: DemoConfig) -> None:
    from ilya.core.report import write_report

    unknown = [s for s in cfg.only if s not in GROUPS]
    if unknown:
        raise IlyaError(f"--only {' '.join(unknown)}: expected some of {', '.join(GROUPS)}")
    t_all = time.time()
    for system, (_, blurb) in GROUPS.items():
        if cfg.only and system not in cfg.only:
            continue
        mod = _system_module(system)
        if mod is None or not hasattr(mod, "demo"):
            continue
        print(f"\n=== ilya {system}: {blurb} ===", flush=True)
        t0 = time.time()
        mod.demo(cfg.runs_dir)
        print(f"--- {system} done in {time.time() - t0:.0f} s", flush=True)
    out = write_report(cfg.runs_dir)
    print(f"\nDemo finished in {time.time() - t_all:.0f} s. Report: {out.resolve()}")


TOP: dict[str, tuple[Command, str]] = {
    "plot": ((PlotConfig, plot_command), "draw metric curves of runs on shared axes"),
    "report": ((ReportConfig, report_command), "write the HTML report of every run"),
    "runs": ((RunsConfig, runs_command), "list runs as a table"),
    "demo": ((DemoConfig, demo_command), "a guided tour of every system, ending with the report"),
}


# ---------------------------------------------------------------------------- dispatch
_BOX = re.compile(r"[│╭╮╰╯─┃┏┓┗┛━]+")


def _parse(config_cls: type, args: list[str], prog: str) -> Any:
    """tyro parses the flags; its boxed error message is cut down to one line."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return tyro.cli(config_cls, args=args, prog=prog, description=config_cls.__doc__)
    except SystemExit as e:
        if e.code in (0, None):
            raise
        lines = [_BOX.sub(" ", ln).strip() for ln in err.getvalue().splitlines()]
        lines = [ln for ln in lines if ln and not ln.lower().startswith(("for full helptext", "usage:"))]
        # the first line is the box title (e.g. "Value error"); the second says what went wrong
        msg = lines[1] if len(lines) > 1 else (lines[0] if lines else "bad arguments")
        raise IlyaError(f"{prog}: {msg} (see {prog} --help)") from None


def _usage() -> str:
    lines = [f"usage: ilya [--debug] <command> ...      (ilya {__version__})", "", "systems:"]
    lines += [f"  {name:<10} {blurb}" for name, (_, blurb) in GROUPS.items()]
    lines += ["", "runs:"]
    lines += [f"  {name:<10} {blurb}" for name, (_, blurb) in TOP.items()]
    lines += ["", "`ilya <system> --help` lists a system's commands; `--debug` shows tracebacks."]
    return "\n".join(lines)


def _group_usage(system: str, commands: dict[str, Command]) -> str:
    lines = [f"usage: ilya {system} <command> [flags]", "", GROUPS[system][1], "", "commands:"]
    for name, (cls, _) in commands.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        lines.append(f"  {name:<10} {doc}")
    return "\n".join(lines)


def _run_command(cmd: Command, args: list[str], prog: str) -> int:
    cls, fn = cmd
    cfg = _parse(cls, args, prog)
    result = fn(cfg)
    if isinstance(result, bool):
        return 0 if result else 1
    if isinstance(result, int):
        return result
    if isinstance(result, dict) and getattr(cfg, "json", False):
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    return 0


def _dispatch(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"ilya {__version__}")
        return 0
    head, rest = argv[0], argv[1:]
    if head in TOP:
        return _run_command(TOP[head][0], rest, f"ilya {head}")
    if head not in GROUPS:
        raise IlyaError(f"unknown command {head!r}: expected one of {', '.join([*GROUPS, *TOP])}")
    mod = _system_module(head)
    if mod is None:
        raise IlyaError(f"ilya {head}: this system is not built in this install yet")
    commands: dict[str, Command] = mod.COMMANDS
    if not rest or rest[0] in ("-h", "--help"):
        print(_group_usage(head, commands))
        return 0 if rest else 2
    sub = rest[0]
    if sub not in commands:
        raise IlyaError(f"unknown command 'ilya {head} {sub}': expected one of {', '.join(commands)}")
    return _run_command(commands[sub], rest[1:], f"ilya {head} {sub}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        return _dispatch(argv)
    except IlyaError as e:
        if debug:
            raise
        print(f"ilya: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("ilya: interrupted (checkpointed work is kept; rerun with the same --run to resume)",
              file=sys.stderr)
        return 130
    except OSError as e:
        if debug:
            raise
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"ilya: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
