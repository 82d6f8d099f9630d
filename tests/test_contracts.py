"""Contracts every command of the registry keeps, present and future, without a test of its own.

Commands come from each system's ``COMMANDS`` (`ilya.core.commands.Command`); a command's ``smoke`` flags
make it finish in seconds. See docs/architecture.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest

from ilya import cli
from ilya.core.commands import Command
from ilya.core.runs import KILL_AFTER_CHECKPOINT

HEAVY = ("torch", "ray", "matplotlib")
ALL = cli.all_commands()
SYSTEM_COMMANDS = {k: c for k, c in ALL.items() if " " in k}
# metric keys that measure time or speed, not what was computed
TIMING = re.compile(r"(wall|second|time|_s$|per_s|/s$|speed|throughput|fps|sps|elapsed|duration)", re.I)


def _params(kind: str) -> list[Any]:
    out = []
    for key, cmd in SYSTEM_COMMANDS.items():
        if cmd.kind == kind and cmd.smoke:
            marks = [pytest.mark.slow] if cmd.slow else []
            out.append(pytest.param(key, cmd, id=key.replace(" ", "-"), marks=marks))
    return out


def ilya(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "ILYA_PROGRESS": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "CUDA_VISIBLE_DEVICES": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "ilya", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("ilya: error: "), proc.stderr[-3000:]
    return lines[0]


def _fill(args: tuple[str, ...], run: Path | str, runs_dir: Path) -> list[str]:
    return [a.replace("{run}", str(run)).replace("{runs_dir}", str(runs_dir)) for a in args]


def _train_args(key: str, cmd: Command, runs_dir: Path, name: str) -> list[str]:
    return [*key.split(), *_fill(cmd.smoke, "", runs_dir), "--seed", "0", "--device", "cpu",
            "--runs-dir", str(runs_dir), "--run", name]


def _computed(run_dir: Path) -> list[dict[str, Any]]:
    """metrics.jsonl without timing values: what the run computed."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [{k: v for k, v in r.items() if not TIMING.search(k)} for r in rows]


# ---------------------------------------------------------------------------------------------- help
HELP_CODE = """
import sys
from ilya.cli import main
try:
    code = main({args!r})
except SystemExit as e:
    code = e.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
raise SystemExit(code or 0)
"""


def _help(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", HELP_CODE.format(args=args, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["--help"]] + [[s, "--help"] for s in cli.GROUPS if cli.commands(s)],
                         ids=lambda a: " ".join(a))
def test_group_help_is_light(args: list[str]) -> None:
    proc = _help(args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout
    assert proc.stderr.strip().endswith("HEAVY="), proc.stderr[-500:]


@pytest.mark.parametrize("key", list(ALL), ids=lambda k: k.replace(" ", "-"))
def test_command_help_is_light_and_documents_every_flag(key: str) -> None:
    proc = _help([*key.split(), "--help"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.strip().endswith("HEAVY="), proc.stderr[-500:]
    cfg = ALL[key].config
    assert cfg.__doc__ and cfg.__doc__.strip(), f"{cfg.__name__} has no docstring"
    for f in dataclasses.fields(cfg):
        assert f.name.replace("_", "-") in proc.stdout or f.name in proc.stdout, f"--{f.name} not in help"


def _literal_fields(cfg: type) -> list[tuple[str, tuple[Any, ...]]]:
    hints = typing.get_type_hints(cfg, include_extras=True)
    out = []
    for f in dataclasses.fields(cfg):
        tp = hints[f.name]
        if get_origin(tp) is typing.Annotated:
            continue  # positional or otherwise special
        if get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
        if get_origin(tp) is Literal and all(isinstance(a, str) for a in get_args(tp)):
            out.append((f.name, get_args(tp)))
    return out


@pytest.mark.parametrize("key", [k for k in ALL if _literal_fields(ALL[k].config)],
                         ids=lambda k: k.replace(" ", "-"))
def test_wrong_choice_is_refused_with_the_choices_named(key: str, tmp_path: Path) -> None:
    name, choices = _literal_fields(ALL[key].config)[0]
    args = [*key.split(), *_fill(ALL[key].smoke, tmp_path / "norun", tmp_path), f"--{name.replace('_', '-')}",
            "no-such-choice"]
    line = one_line_error(ilya(*args, timeout=120))
    assert any(str(c) in line for c in choices), line


def test_every_training_command_takes_the_run_flags() -> None:
    """--seed --device --runs-dir --run (and --fresh): a training config inherits RunConfig."""
    from ilya.core.config import RunConfig

    train = [k for k, c in SYSTEM_COMMANDS.items() if c.kind == "train"]
    assert train, "no training command registered"
    bad = [k for k in train if not issubclass(SYSTEM_COMMANDS[k].config, RunConfig)]
    assert bad == []


def test_every_eval_command_takes_json() -> None:
    evals = [k for k, c in SYSTEM_COMMANDS.items() if c.kind == "eval"]
    bad = [k for k in evals if "json" not in {f.name for f in dataclasses.fields(SYSTEM_COMMANDS[k].config)}]
    assert evals and bad == []


def test_every_train_and_eval_command_has_a_smoke_invocation() -> None:
    """Without smoke flags a command would escape the contracts below."""
    bad = [k for k, c in SYSTEM_COMMANDS.items() if c.kind in ("train", "eval") and not c.smoke]
    assert bad == []


# ---------------------------------------------------------------------------------------------- train
@pytest.mark.parametrize(("key", "cmd"), _params("train"))
def test_train_writes_the_run_folder_is_deterministic_and_resumes_after_sigkill(key: str, cmd: Command,
                                                                               tmp_path: Path) -> None:
    system = key.split()[0]
    runs = tmp_path / "runs"
    first = ilya(*_train_args(key, cmd, runs, "a"))
    assert first.returncode == 0, first.stderr[-3000:]
    a = runs / system / "a"
    for part in ("config.json", "metrics.jsonl", "status.json", "checkpoints", "plots"):
        assert (a / part).exists(), f"{key}: no {part} in the run folder"
    assert json.loads((a / "status.json").read_text())["status"] == "finished"
    assert json.loads((a / "config.json").read_text())["seed"] == 0
    assert list((a / "checkpoints").glob("*.safetensors")), f"{key}: no checkpoint"
    assert _computed(a), f"{key}: no metrics"

    second = ilya(*_train_args(key, cmd, runs, "b"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert _computed(runs / system / "b") == _computed(a), f"{key}: not deterministic for a seed on the CPU"

    killed = ilya(*_train_args(key, cmd, runs, "c"), env={KILL_AFTER_CHECKPOINT: "1"})
    assert killed.returncode == -9, f"{key}: expected to be killed after its first checkpoint"
    c = runs / system / "c"
    resumed = ilya(*_train_args(key, cmd, runs, "c"))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    steps_a = sorted({r["step"] for r in _computed(a)})
    steps_c = sorted({r["step"] for r in _computed(c)})
    assert steps_c == steps_a, f"{key}: the resumed run's metrics do not continue the same steps"
    assert json.loads((c / "status.json").read_text())["status"] == "finished"


# ---------------------------------------------------------------------------------------------- eval
@pytest.mark.parametrize(("key", "cmd"), _params("eval"))
def test_eval_json_is_one_object_and_bad_runs_are_one_line(key: str, cmd: Command, tmp_path: Path) -> None:
    system = key.split()[0]
    runs = tmp_path / "runs"
    run_dir: Path | str = ""
    if cmd.needs:
        train_key = f"{system} {cmd.needs}"
        proc = ilya(*_train_args(train_key, SYSTEM_COMMANDS[train_key], runs, "t"))
        assert proc.returncode == 0, proc.stderr[-3000:]
        run_dir = runs / system / "t"
    proc = ilya(*key.split(), *_fill(cmd.smoke, run_dir, runs))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout.strip()
    obj, end = json.JSONDecoder().raw_decode(text)
    assert isinstance(obj, dict) and obj, f"{key}: --json did not print one JSON object"
    assert text[end:].strip() == "", f"{key}: --json printed more than one JSON object"
    if not cmd.needs or "{run}" not in cmd.smoke:
        return
    # a missing run, then a corrupt checkpoint: one line each
    one_line_error(ilya(*key.split(), *_fill(cmd.smoke, tmp_path / "missing-run", runs)))
    ckpts = sorted((Path(run_dir) / "checkpoints").glob("*.safetensors"))
    for ck in ckpts:
        ck.write_bytes(ck.read_bytes()[: max(8, ck.stat().st_size // 3)])
    one_line_error(ilya(*key.split(), *_fill(cmd.smoke, run_dir, runs)))
