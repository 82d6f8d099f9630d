"""Exact scoring of text: non-overlapping and sliding windows against a brute-force per-byte computation."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from ilya.core.errors import IlyaError
from ilya.nn import Transformer, TransformerConfig
from ilya.sparse.data import TokenData
from ilya.sparse.model import eval_stride, evaluate

BLOCK = 16


def _tiny() -> tuple[Transformer, TokenData]:
    torch.manual_seed(0)
    model = Transformer(TransformerConfig(vocab_size=256, block_size=BLOCK, n_layer=2, n_head=2, n_embd=16,
                                          attn="strided", stride=4))
    model.eval()
    arr = np.random.default_rng(0).integers(0, 256, size=65, dtype=np.uint8)  # 64 targets, 4 whole windows
    return model, TokenData("toy", "bytes", arr, arr, arr)


@torch.no_grad()
def _brute(model: Transformer, arr: np.ndarray, start_of: Callable[[int], int]) -> tuple[float, int]:
    """Sum of nats of bytes 1..n-1, each from one forward pass over its own context arr[start_of(j):j]."""
    total, least = 0.0, BLOCK
    for j in range(1, len(arr)):
        s = start_of(j)
        assert 0 <= s < j and j - s <= BLOCK
        if j > BLOCK:
            least = min(least, j - s)
        x = torch.as_tensor(arr[s:j].astype(np.int64))[None]
        logp = torch.log_softmax(model(x)[0][0, -1], -1)
        total -= float(logp[int(arr[j])])
    return total, least


@pytest.mark.parametrize("scoring,min_context", [("windows", 0), ("sliding", 12), ("sliding", 16), ("sliding", 5)])
def test_eval_equals_brute_force_per_byte(scoring, min_context):
    torch.set_num_threads(1)
    model, data = _tiny()
    step = eval_stride(BLOCK, scoring, min_context)
    assert step == (BLOCK if scoring == "windows" else BLOCK - min_context + 1)
    res = evaluate(model, data, "test", batch_size=3, stride=step, show=False)
    want = min_context if scoring == "sliding" else 1
    assert res["exact"] and res["tokens"] == 64 and res["min_context"] == want
    assert res["scoring"] == scoring

    def start_of(j: int) -> int:  # window scoring byte j: the first, else the one ending at the next step
        if j <= BLOCK:
            return 0
        end = BLOCK + math.ceil((j - BLOCK) / step) * step
        return min(end, 64) - BLOCK

    nats, least = _brute(model, data.test, start_of)
    assert least == want
    assert res["bits"] == pytest.approx(nats / 64 / math.log(2), rel=1e-5)


def test_sliding_and_non_overlapping_give_different_exact_figures():
    torch.set_num_threads(1)
    model, data = _tiny()
    a = evaluate(model, data, "test", stride=BLOCK, show=False)["bits"]
    b = evaluate(model, data, "test", stride=1, show=False)["bits"]
    assert a != pytest.approx(b, abs=1e-7)  # different contexts give different figures, both exact


def test_eval_stride_rejects_bad_flags():
    assert eval_stride(256, "sliding") == 129
    assert eval_stride(256, "windows", stride=64) == 64
    with pytest.raises(IlyaError, match="min-context"):
        eval_stride(256, "sliding", 257)
    with pytest.raises(IlyaError, match="applies to --scoring sliding"):
        eval_stride(256, "windows", 16)
    with pytest.raises(IlyaError, match="exceed"):
        eval_stride(256, "windows", stride=300)


def test_a_shorter_scoring_context_is_the_same_model_seeing_less():
    torch.set_num_threads(1)
    model, data = _tiny()
    ctx, step = 8, 4
    res = evaluate(model, data, "test", stride=step, show=False, context=ctx)
    assert res["exact"] and res["context"] == ctx and res["min_context"] == ctx - step + 1

    def start_of(j: int) -> int:   # windows of ctx bytes moved by step: byte j sits in the one ending at or after j
        if j <= ctx:
            return 0
        end = ctx + math.ceil((j - ctx) / step) * step
        return min(end, 64) - ctx

    nats, _ = _brute(model, data.test, start_of)
    assert res["bits"] == pytest.approx(nats / 64 / math.log(2), rel=1e-5)
    assert evaluate(model, data, "test", stride=step, show=False, context=BLOCK)["bits"] == pytest.approx(
        evaluate(model, data, "test", stride=step, show=False)["bits"], abs=1e-9)
    with pytest.raises(IlyaError, match="exceeds"):
        evaluate(model, data, "test", stride=12, show=False, context=ctx)
