"""Run directories: ``runs/<system>/<name>/``.

A run holds ``config.json`` (the command's config, seed included), ``metrics.jsonl`` (append-only:
one JSON object per line with ``step``, ``wall`` seconds and the values), ``checkpoints/`` (atomic,
the last few kept), ``plots/``, ``summary.json`` (the final figures) and ``status.json``.

Opening an existing run resumes it: the config must be the same (a changed config is refused unless
``--fresh``, which starts the run over; a field added to the config since the run began counts as
unchanged while it holds its default), and `Run.load_checkpoint` gives back the latest checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import socket
import time
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from ilya.core.checkpoint import atomic_write_text, load_state, save_state
from ilya.core.config import RunConfig
from ilya.core.errors import IlyaError
from ilya.core.seeding import seed_everything

# Set to n, the process SIGKILLs itself right after its n-th checkpoint (tests of resumption use this).
KILL_AFTER_CHECKPOINT = "ILYA_TEST_KILL_AFTER_CHECKPOINT"
STATUSES = ("running", "finished", "failed", "interrupted")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CKPT_RE = re.compile(r"^ckpt_(\d{9})\.safetensors$")
# Fields that may change between a run and its resumption without changing what it computes.
RESUME_IGNORED = frozenset({"run", "fresh", "device", "runs_dir", "json", "quiet", "workers", "address", "threads"})




C = TypeVar("C")
__all__ = ["RESUME_IGNORED", "STATUSES", "Run", "RunConfig"]


def _to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in typing.cast(dict[Any, Any], obj).items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in typing.cast(list[Any], obj)]
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _field_defaults(cfg: Any) -> dict[str, Any]:
    """The JSON form of each top-level field's default value, for the fields that have one."""
    if not dataclasses.is_dataclass(cfg):
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if f.default is not dataclasses.MISSING:
            out[f.name] = _to_jsonable(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = _to_jsonable(f.default_factory())
    return out


def _is_writer() -> bool:
    """Rank 0 of a torchrun job (or a plain process) writes the run folder."""
    return os.environ.get("RANK", "0") == "0"


def _terminate_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread, so a killed run is marked interrupted."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def handler(signum: int, frame: object) -> None:
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, handler)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Run:
    """One run folder. Create with `Run.open` (to train) or `Run.load` (to read)."""

    def __init__(self, path: Path, system: str, name: str, config: dict[str, Any], resumed: bool) -> None:
        self.path = path
        self.system = system
        self.name = name
        self.config = config
        self.resumed = resumed
        self._t0 = time.time()
        self._wall_offset = 0.0
        self._saved = 0
        self.writer = _is_writer()
        """False on data-parallel ranks other than 0: they compute but write nothing"""

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, system: str, cfg: Any, *, name: str | None = None, seed: bool = True) -> Run:
        """Create ``runs/<system>/<name>`` for ``cfg`` (a dataclass, usually a `RunConfig`) or resume it.

        Seeds every RNG with ``cfg.seed`` and marks the run as running.
        """
        config: dict[str, Any] = _to_jsonable(cfg)
        runs_dir = Path(str(config.get("runs_dir", "runs")))
        name = str(name or config.get("run") or time.strftime("%Y%m%d-%H%M%S"))
        if not _NAME_RE.match(name):
            raise IlyaError(f"run name {name!r}: expected letters, digits, '.', '_' or '-'")
        path = runs_dir / system / name
        resumed = False
        if not _is_writer():
            # another data-parallel rank (torchrun): rank 0 owns the folder, this one only reads it
            run = cls(path, system, name, config, (path / "config.json").exists())
            if seed and "seed" in config:
                seed_everything(int(config["seed"]))
            return run
        if path.exists() and config.get("fresh"):
            shutil.rmtree(path)
        if (path / "config.json").exists():
            old: dict[str, Any] = json.loads((path / "config.json").read_text())
            added = _field_defaults(cfg)  # a field added since the run began, left at its default, is no change
            changed = sorted(
                k for k in set(old) | set(config)
                if k not in RESUME_IGNORED and old.get(k) != config.get(k)
                and not (k not in old and k in added and added[k] == config.get(k))
            )
            if changed:
                diffs = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in changed[:4])
                raise IlyaError(f"run {system}/{name} exists with another config ({diffs}); "
                                "pass --fresh to start it over or choose another --run name",
                                file=path / "config.json")
            resumed = True
        else:
            (path / "checkpoints").mkdir(parents=True, exist_ok=True)
            (path / "plots").mkdir(exist_ok=True)
            atomic_write_text(path / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
        run = cls(path, system, name, config, resumed)
        rows = run.metrics()
        if rows:
            run._wall_offset = max(float(r.get("wall", 0.0)) for r in rows)
        if seed and "seed" in config:
            seed_everything(int(config["seed"]))
        run.set_status("running")
        _terminate_as_interrupt()
        return run

    @classmethod
    def load(cls, ref: str | os.PathLike[str], runs_dir: str | os.PathLike[str] = "runs",
             system: str | None = None) -> Run:
        """Find a run by path, ``system/name`` or (with ``system``) a bare name."""
        ref = str(ref)
        candidates = [Path(ref), Path(runs_dir) / ref]
        if system is not None:
            candidates.append(Path(runs_dir) / system / ref)
        for p in candidates:
            if (p / "config.json").is_file():
                p = p.resolve()
                return cls(p, p.parent.name, p.name, json.loads((p / "config.json").read_text()), True)
        raise IlyaError(f"unknown run {ref!r}: expected a run folder, or system/name under {runs_dir}/"
                        " (see `ilya runs`)")

    @staticmethod
    def all(runs_dir: str | os.PathLike[str] = "runs") -> list[Run]:
        """Every run under ``runs_dir``, sorted by system then name."""
        root = Path(runs_dir)
        found = sorted(p.parent for p in root.glob("*/*/config.json"))
        return [Run.load(p) for p in found]

    # ------------------------------------------------------------------ metrics
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def plots_dir(self) -> Path:
        d = self.path / "plots"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    def wall(self) -> float:
        """Seconds of work in this run, summed over its resumptions."""
        return self._wall_offset + time.time() - self._t0

    def log(self, step: int, **values: Any) -> dict[str, Any]:
        """Append one line to metrics.jsonl and return it."""
        row = {"step": int(step), "wall": round(self.wall(), 3), **_to_jsonable(values)}
        if not self.writer:
            return row
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        return row

    def metrics(self) -> list[dict[str, Any]]:
        """All metric rows; a torn last line (the process was killed mid-write) is skipped."""
        if not self.metrics_path.exists():
            return []
        rows: list[dict[str, Any]] = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return rows

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """The (steps, values) of one metric; a step logged again after a resume replaces the old one."""
        latest: dict[int, float] = {}
        for r in self.metrics():
            v = r.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                latest[int(r["step"])] = float(v)
        steps = sorted(latest)
        return steps, [latest[s] for s in steps]

    # ------------------------------------------------------------------ checkpoints
    def checkpoints(self) -> list[Path]:
        d = self.checkpoints_dir
        if not d.is_dir():
            return []
        return sorted(p for p in d.iterdir() if _CKPT_RE.match(p.name))

    def save_checkpoint(self, step: int, state: dict[str, Any], keep: int = 3) -> Path:
        """Atomically write ``state`` (tensors, arrays, JSON values) as the checkpoint of ``step``."""
        path = self.checkpoints_dir / f"ckpt_{int(step):09d}.safetensors"
        if not self.writer:
            return path
        save_state(path, {"step": int(step), "wall": self.wall(), "state": state})
        for old in self.checkpoints()[:-keep]:
            old.unlink(missing_ok=True)
        self._saved += 1
        if os.environ.get(KILL_AFTER_CHECKPOINT) == str(self._saved):
            # contract tests: die like a SIGKILLed job, right after the n-th checkpoint is on disk
            os.kill(os.getpid(), 9)
        return path

    def load_checkpoint(self, map_location: str = "cpu") -> dict[str, Any] | None:
        """The latest checkpoint's state with its ``step`` added, or None for a new run."""
        paths = self.checkpoints()
        if not paths:
            return None
        blob = load_state(paths[-1], map_location=map_location)
        self._wall_offset = float(blob.get("wall", self._wall_offset))
        self._t0 = time.time()
        state = dict(blob["state"])
        state.setdefault("step", blob["step"])
        return state

    # ------------------------------------------------------------------ status and figures
    def set_status(self, status: str, **extra: Any) -> None:
        assert status in STATUSES, status
        if not self.writer:
            return
        info = {"status": status, "pid": os.getpid(), "host": socket.gethostname(),
                "updated": time.strftime("%Y-%m-%dT%H:%M:%S"), **extra}
        atomic_write_text(self.path / "status.json", json.dumps(info) + "\n")

    def status(self) -> str:
        """running / finished / failed / interrupted; a 'running' run whose process is gone was interrupted."""
        p = self.path / "status.json"
        if not p.exists():
            return "interrupted"
        info = json.loads(p.read_text())
        status = info.get("status", "interrupted")
        if status == "running" and info.get("host") == socket.gethostname() and not _pid_alive(info["pid"]):
            return "interrupted"
        return status

    def summary(self, **figures: Any) -> dict[str, Any]:
        """Merge final figures into summary.json (shown by `ilya report`) and return them all."""
        p = self.path / "summary.json"
        data: dict[str, Any] = json.loads(p.read_text()) if p.exists() else {}
        data.update(_to_jsonable(figures))
        if not self.writer:
            return data
        atomic_write_text(p, json.dumps(data, indent=2, sort_keys=True) + "\n")
        return data

    def read_summary(self) -> dict[str, Any]:
        p = self.path / "summary.json"
        return json.loads(p.read_text()) if p.exists() else {}

    def plots(self) -> list[Path]:
        return sorted(self.plots_dir.glob("*.png"))

    def finish(self) -> None:
        """Mark the run finished (figures are drawn by the system: `ilya.core.figures.draw_run`)."""
        self.set_status("finished")

    # ------------------------------------------------------------------ config
    def config_as(self, cls: type[C], **overrides: Any) -> C:
        """The run's config.json rebuilt as the dataclass ``cls`` (fields it lacks keep their defaults).

        Paths, tuples, nested dataclasses and ``X | None`` come back as their declared types, so a
        command can reopen a run with exactly the config it was trained with.
        """
        values: dict[str, Any] = {**self.config, **overrides}
        return _from_jsonable(cls, values)  # type: ignore[no-any-return]

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            self.set_status("interrupted")
        else:
            self.set_status("failed", error=str(exc)[:500])

    def __repr__(self) -> str:
        return f"Run({self.system}/{self.name})"


def _coerce(tp: Any, value: Any) -> Any:
    """``value`` (from JSON) as the annotated type ``tp``."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _coerce(options[0], value) if len(options) == 1 else value
    if origin is typing.Literal or tp is Any:
        return value
    if origin is typing.Annotated:
        return _coerce(get_args(tp)[0], value)
    if origin in (tuple, list):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        items = [_coerce(args[0] if args else Any, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        return dict(value)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return _from_jsonable(tp, typing.cast(dict[str, Any], value))
    if tp is Path:
        return Path(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def _from_jsonable(cls: Any, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs = {f.name: _coerce(hints[f.name], values[f.name])
              for f in dataclasses.fields(cls) if f.name in values and f.init}
    return cls(**kwargs)
