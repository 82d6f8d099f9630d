"""Driving Debian's ``coqtop`` as a subprocess, one sentence at a time.

``coqtop -emacs`` ends the answer to every command with a prompt
``<prompt>NAME < STATE |OPEN PROOFS| DEPTH < </prompt>``: the text before it is the command's output
(a goal display, or ``Error: ...``), ``STATE`` is the state number (``BackTo STATE.`` returns there) and
the bars name the open proofs.  Info messages and warnings come wrapped in ``<infomsg>`` / ``<warning>``
and are dropped.  A command that runs past its time limit has coqtop killed (`CoqTimeout`); a coqtop that
dies is `CoqCrashed`; both leave the `Coqtop` ready for `restart`.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ilya.core.errors import IlyaError

INSTALL_HINT = "Coq is not installed (install it: apt-get install coq libcoq-mathcomp)"
PROMPT_RE = re.compile(r"<prompt>(\S*) < (\d+) \|([^|]*)\| (\d+) < </prompt>")
_TAG_RE = re.compile(r"<(infomsg|warning)>.*?</\1>", re.S)
_LOCATION_RE = re.compile(r"Toplevel input, characters (\d+)-(\d+):\n(?:> .*\n)*", re.M)


def coqtop_path() -> str:
    """The coqtop executable (``ILYA_COQTOP`` overrides); a missing Coq is one line saying how to install it."""
    exe = os.environ.get("ILYA_COQTOP", "coqtop")
    found = shutil.which(exe)
    if found is None:
        raise IlyaError(INSTALL_HINT)
    return found


def coqc_path() -> str:
    found = shutil.which(os.environ.get("ILYA_COQC", "coqc"))
    if found is None:
        raise IlyaError(INSTALL_HINT)
    return found


class CoqTimeout(Exception):
    """A command ran past its time limit (coqtop was killed)."""


class CoqCrashed(Exception):
    """coqtop exited (or was killed) while answering."""


@dataclass
class Answer:
    """Coq's answer to one command."""

    output: str
    """what coqtop printed before the prompt, info messages and warnings removed"""
    state: int
    """the state number of the prompt that followed"""
    proofs: list[str] = field(default_factory=list)
    """names of the open proofs (empty outside proof mode)"""
    error: str | None = None
    """Coq's error message when the command failed"""
    seconds: float = 0.0


def parse_error(output: str) -> str | None:
    """Coq's message from an output that holds ``Error:`` (None when the command succeeded)."""
    m = re.search(r"^Error:", output, re.M)
    if m is None:
        return None
    return output[m.start() + len("Error:"):].strip() or "error"


class Coqtop:
    """One coqtop process (``coqtop -emacs``), fed one sentence at a time."""

    def __init__(self, args: list[str] | None = None, cwd: str | Path | None = None,
                 timeout: float = 60.0) -> None:
        self.args = list(args or [])
        self.cwd = cwd
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.state = 0
        self.proofs: list[str] = []
        self._buf = b""
        self.start()

    # ------------------------------------------------------------------ process
    def start(self) -> Answer:
        exe = coqtop_path()
        self.proc = subprocess.Popen([exe, "-emacs", "-w", "-all", *self.args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.cwd,
                                     bufsize=0)
        self._buf = b""
        first = self._read(self.timeout)
        return first

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in (proc.stdout,):
            if f is not None:
                f.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close()

    def restart(self) -> Answer:
        self.kill()
        return self.start()

    def __enter__(self) -> Coqtop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    # ------------------------------------------------------------------ talking
    def _read(self, timeout: float) -> Answer:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            text = self._buf.decode("utf-8", "replace")
            m = PROMPT_RE.search(text)
            if m is not None:
                raw = self._buf[: len(text[: m.end()].encode("utf-8"))]
                self._buf = self._buf[len(raw):]
                out = _TAG_RE.sub("", text[: m.start()])
                self.state = int(m.group(2))
                self.proofs = m.group(3).split("|") if m.group(3) else []
                return Answer(out.strip("\n"), self.state, list(self.proofs), parse_error(out),
                              time.monotonic() - t0)
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise CoqTimeout(f"no answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    rest = self._buf.decode("utf-8", "replace")
                    self.close()
                    raise CoqCrashed(f"coqtop exited: {rest[-500:].strip()}")
                self._buf += chunk

    def send(self, sentence: str, timeout: float | None = None) -> Answer:
        """Run one sentence; the answer holds the output, Coq's error (if any) and the new state."""
        if not self.alive():
            raise CoqCrashed("coqtop is not running")
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((sentence.replace("\n", " ") + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            self.close()
            raise CoqCrashed(f"coqtop exited: {e}") from e
        return self._read(self.timeout if timeout is None else timeout)

    def back_to(self, state: int) -> Answer:
        return self.send(f"BackTo {state}.")


def coq_version() -> str:
    out = subprocess.run([coqtop_path(), "-v"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "unknown"
