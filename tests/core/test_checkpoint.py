from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ilya.core import IlyaError, load_state, save_state


def test_round_trip_model_and_optimizer(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(torch.randn(8, 3)).pow(2).mean().backward()
    opt.step()
    state = {"model": model.state_dict(), "optim": opt.state_dict(), "step": 3,
             "rng": np.arange(5, dtype=np.int64), "pair": (1, "a"), "nothing": None}
    save_state(tmp_path / "c.safetensors", state)
    back = load_state(tmp_path / "c.safetensors")
    for k, v in model.state_dict().items():
        assert torch.equal(back["model"][k], v)
    assert back["step"] == 3 and back["pair"] == (1, "a") and back["nothing"] is None
    assert np.array_equal(back["rng"], np.arange(5))
    # optimizer state is keyed by int parameter ids: it must load back into a fresh optimizer
    opt2 = torch.optim.Adam(model.parameters(), lr=1e-2)
    opt2.load_state_dict(back["optim"])
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_shared_tensors_are_saved(tmp_path: Path) -> None:
    w = torch.randn(4, 4)
    save_state(tmp_path / "s.safetensors", {"a": w, "b": w, "view": w[:, 1]})
    back = load_state(tmp_path / "s.safetensors")
    assert torch.equal(back["a"], w) and torch.equal(back["view"], w[:, 1])


def test_corrupt_file_is_a_user_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.safetensors"
    p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(IlyaError, match="bad.safetensors"):
        load_state(p)


_WRITER = r"""
import sys, torch
from ilya.core.checkpoint import save_state
path = sys.argv[1]
big = torch.randn(2_000_000)
i = 0
while True:
    big[0] = float(i)
    save_state(path, {"i": i, "big": big})
    i += 1
    print(i, flush=True)
"""


def test_sigkill_mid_write_leaves_previous_checkpoint_loadable(tmp_path: Path) -> None:
    target = tmp_path / "ckpt.safetensors"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    written = 0
    deadline = time.time() + 60
    while written < 3 and time.time() < deadline:  # let it complete a few writes
        written = int(proc.stdout.readline())
    for delay in (0.003, 0.011, 0.017):  # then kill it at moments that land inside a write
        time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = load_state(target)
    assert state["i"] >= 2
    assert float(state["big"][0]) == state["i"]  # tensor and metadata are from the same write
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # at most the write that was cut off, never renamed into place
