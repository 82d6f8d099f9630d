"""The one ``ilya`` command.

``ilya <system> <command> [flags]`` runs a system's command; ``ilya plot|report|runs|demo`` work on runs.
Each command is a config dataclass plus a function: ``tyro`` turns the dataclass into flags (with their
defaults and docstrings in ``--help``), so no command parses arguments by hand.  A system exposes its
commands as ``COMMANDS = {"name": Command(ConfigClass, "module:function", ...)}`` in
``ilya/<system>/cli.py`` (see `ilya.core.commands`), and optionally ``DEMO = "module:function"`` (its step
of ``ilya demo``, called with the runs folder).  Figures come from the registry of `ilya.core.figures`.
Nothing heavy is imported before a command runs: ``--help`` at every level stays fast.

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
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

import tyro

from ilya import __version__
from ilya.core.commands import Command, load_callable
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



def _system_module(system: str) -> ModuleType | None:
    """The system's cli module, or None when that system is not built (yet) in this install."""
    modname = GROUPS[system][0]
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name and (modname == e.name or modname.startswith(e.name + ".")):
            return None
        raise


def _systems() -> list[tuple[str, str]]:
    return [(name, blurb) for name, (_, blurb) in GROUPS.items()]


def commands(system: str) -> dict[str, Command]:
    """The registered commands of a built system ({} when the system is not built)."""
    mod = _system_module(system)
    found: dict[str, Command] = getattr(mod, "COMMANDS", {}) if mod is not None else {}
    return dict(found)


def all_commands() -> dict[str, Command]:
    """Every command of every built system, keyed ``"system name"``, then the run-level ones."""
    out = {f"{system} {name}": cmd for system in GROUPS for name, cmd in commands(system).items()}
    return out | {name: cmd for name, cmd in TOP.items()}


# ---------------------------------------------------------------------------- run-level commands
@dataclass
class PlotConfig:
    """Draw the metric curves of one or several runs on shared axes (PNGs under each run's plots/)."""

    runs: Annotated[list[str], tyro.conf.Positional]
    """runs to draw, as system/name or a run folder"""
    x: Literal["step", "wall"] = "step"
    """x axis: step or wall (wall-clock seconds)"""
    runs_dir: Path = Path("runs")
    """folder that holds runs/<system>/<name>/"""


def plot_command(cfg: PlotConfig) -> None:
    from ilya.core import figures
    from ilya.core.plotting import plot_metrics
    from ilya.core.runs import Run

    runs = [Run.load(r, cfg.runs_dir) for r in cfg.runs]
    paths = plot_metrics(runs, x=cfg.x)
    for run in runs:
        for fn in figures.run_figures(run.system).values():
            paths += list(fn(run) or [])
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

    print(write_report(cfg.runs_dir, cfg.out, systems=_systems()))


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
        if mod is None or not getattr(mod, "DEMO", None):
            continue
        print(f"\n=== ilya {system}: {blurb} ===", flush=True)
        t0 = time.time()
        load_callable(mod.DEMO)(cfg.runs_dir)
        print(f"--- {system} done in {time.time() - t0:.0f} s", flush=True)
    out = write_report(cfg.runs_dir, systems=_systems())
    print(f"\nDemo finished in {time.time() - t_all:.0f} s. Report: {out.resolve()}")


TOP: dict[str, Command] = {
    "plot": Command(PlotConfig, "ilya.cli:plot_command"),
    "report": Command(ReportConfig, "ilya.cli:report_command"),
    "runs": Command(RunsConfig, "ilya.cli:runs_command"),
    "demo": Command(DemoConfig, "ilya.cli:demo_command"),
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
        # the first line is the box title (e.g. "Value error"); then what went wrong, maybe wrapped over
        # several lines, up to a rule (without a terminal the box is drawn with '-' rules)
        body: list[str] = []
        for ln in lines[1:]:
            if set(ln) <= {"-"}:
                if body:
                    break
                continue
            body.append(ln)
        msg = " ".join(body) if body else (lines[0] if lines else "bad arguments")
        raise IlyaError(f"{prog}: {msg} (see {prog} --help)") from None


def _usage() -> str:
    lines = [f"usage: ilya [--debug] <command> ...      (ilya {__version__})", "", "systems:"]
    lines += [f"  {name:<10} {blurb}" for name, (_, blurb) in GROUPS.items()]
    lines += ["", "runs:"]
    lines += [f"  {name:<10} {cmd.summary}" for name, cmd in TOP.items()]
    lines += ["", "`ilya <system> --help` lists a system's commands; `--debug` shows tracebacks."]
    return "\n".join(lines)


def _group_usage(system: str, commands: dict[str, Command]) -> str:
    lines = [f"usage: ilya {system} <command> [flags]", "", GROUPS[system][1], "", "commands:"]
    for name, cmd in commands.items():
        lines.append(f"  {name:<10} {cmd.summary}")
    return "\n".join(lines)


def _run_command(cmd: Command, args: list[str], prog: str) -> int:
    cfg = _parse(cmd.config, args, prog)
    result = cmd.load()(cfg)
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
        return _run_command(TOP[head], rest, f"ilya {head}")
    if head not in GROUPS:
        raise IlyaError(f"unknown command {head!r}: expected one of {', '.join([*GROUPS, *TOP])}")
    mod = _system_module(head)
    if mod is None:
        raise IlyaError(f"ilya {head}: this system is not built in this install yet")
    commands_ = commands(head)
    if not rest or rest[0] in ("-h", "--help"):
        print(_group_usage(head, commands_))
        return 0 if rest else 2
    sub = rest[0]
    if sub not in commands_:
        raise IlyaError(f"unknown command 'ilya {head} {sub}': expected one of {', '.join(commands_)}")
    return _run_command(commands_[sub], rest[1:], f"ilya {head} {sub}")


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
