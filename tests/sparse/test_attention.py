# ruff: noqa: E741  (``l`` is the paper's stride/block length)
"""Sparse attention: masks equal the paper's formulas; every implementation equals the dense reference."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ilya.nn.factorized_attention as FA
import ilya.sparse as sp
from ilya.nn.factorized_attention import blocked_attention, flex_attention, reference_attention


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: the suite runs under xdist on a shared CPU, where thread pools only contend."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def rows(*lines: str) -> torch.Tensor:
    return torch.tensor([[ch == "1" for ch in ln] for ln in lines])


def test_strided_mask_by_hand():
    # l = 2: i attends to j <= i with i - j <= 2 or i - j even
    want = rows("100000",
                "110000",
                "111000",
                "011100",   # i=3: j=1,2,3 (window) and j=1,3 (stride)
                "101110",   # i=4: j=2,3,4 and j=0,2,4
                "010111")   # i=5: j=3,4,5 and j=1,3,5
    assert torch.equal(sp.pattern_mask("strided", 6, 2), want)


def test_fixed_mask_by_hand():
    # l = 3, c = 1: same block of 3, or j mod 3 == 2 (the last column of every block)
    want = rows("100000",
                "110000",
                "111000",
                "001100",   # i=3: own block {3} and summary j=2
                "001110",
                "001111")
    assert torch.equal(sp.pattern_mask("fixed", 6, 3, 1), want)
    # c = 2 on l = 4: summary columns 2, 3 of each block
    m = sp.pattern_mask("fixed", 9, 4, 2)
    assert m[8].nonzero().flatten().tolist() == [2, 3, 6, 7, 8]


def test_halves_and_dense():
    n, l = 20, 4
    a1 = sp.pattern_mask("strided", n, l, part="A1")
    a2 = sp.pattern_mask("strided", n, l, part="A2")
    assert torch.equal(a1 | a2, sp.pattern_mask("strided", n, l))
    assert a1[10].nonzero().flatten().tolist() == [6, 7, 8, 9, 10]
    assert a2[10].nonzero().flatten().tolist() == [2, 6, 10]
    assert torch.equal(sp.pattern_mask("dense", 5), torch.ones(5, 5, dtype=torch.bool).tril())
    # fixed A2 alone keeps j == i so no row is empty
    f2 = sp.pattern_mask("fixed", 12, 4, 1, part="A2")
    assert f2.any(1).all()
    assert f2[5].nonzero().flatten().tolist() == [3, 5]


def test_bad_arguments():
    with pytest.raises(ValueError):
        sp.pattern_mask("diagonal", 4, 2)
    with pytest.raises(ValueError):
        sp.pattern_mask("strided", 4)
    with pytest.raises(ValueError):
        sp.pattern_mask("fixed", 8, 4, 5)


CASES = [("strided", 4, None), ("strided", 7, None), ("fixed", 4, 1), ("fixed", 8, 3), ("fixed", 5, 5),
         ("dense", None, None)]


@pytest.mark.parametrize("pattern,l,c", CASES)
@pytest.mark.parametrize("part", ["merged", "A1", "A2"])
@pytest.mark.parametrize("n", [1, 29, 64])
@pytest.mark.parametrize("chunk", [1 << 19, 300])
def test_blocked_matches_reference_in_outputs_and_grads(pattern, l, c, part, n, chunk, monkeypatch):
    monkeypatch.setattr(FA, "CHUNK_ELEMENTS", chunk)        # 300: many small chunks of query groups
    torch.manual_seed(n)
    q, k, v = (torch.randn(2, 3, n, 16, requires_grad=True) for _ in range(3))
    ref = reference_attention(q, k, v, pattern, l, c, part)
    out = blocked_attention(q, k, v, pattern, l, c, part)
    assert out.shape == ref.shape == (2, 3, n, 16)
    assert (out - ref).abs().max().item() < 1e-5
    g = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, (q, k, v), g)
    g_out = torch.autograd.grad(out, (q, k, v), g)
    for a, b in zip(g_out, g_ref, strict=True):
        assert (a - b).abs().max().item() < 1e-5


@pytest.mark.parametrize("pattern,l,c", [("strided", 16, None), ("fixed", 16, 4), ("dense", None, None)])
def test_flex_forward_matches_reference_on_cpu(pattern, l, c):
    """FlexAttention's CPU forward (no backward on CPU in torch 2.13) checks the block-mask predicate."""
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 2, 256, 16) for _ in range(3))
    out = flex_attention(q, k, v, pattern, l, c)
    assert (out - reference_attention(q, k, v, pattern, l, c)).abs().max().item() < 1e-5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("pattern,l,c", [("strided", 32, None), ("fixed", 32, 4)])
def test_flex_on_cuda_matches_reference_in_outputs_and_grads(pattern, l, c):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 1024, 64, device="cuda", requires_grad=True) for _ in range(3))
    ref = reference_attention(q, k, v, pattern, l, c)
    out = sp.attention(q, k, v, pattern, l, c, impl="flex")
    assert (out - ref).abs().max().item() < 1e-5
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (q, k, v), g), torch.autograd.grad(ref, (q, k, v), g), strict=True):
        assert (a - b).abs().max().item() < 1e-5


@pytest.mark.parametrize("pattern,l,c", [("strided", 5, None), ("fixed", 5, 2)])
def test_causality_gradient_of_output_i_wrt_input_j_after_i_is_zero(pattern, l, c):
    n = 23
    q, k, v = (torch.randn(1, 2, n, 8, requires_grad=True) for _ in range(3))
    out = sp.attention(q, k, v, pattern, l, c)
    allowed = sp.pattern_mask(pattern, n, l, c)
    for i in (0, 7, 13, 22):
        gq, gk, gv = torch.autograd.grad(out[0, :, i].sum(), (q, k, v), retain_graph=True)
        assert torch.all(gk[0, :, i + 1:] == 0) and torch.all(gv[0, :, i + 1:] == 0)
        assert torch.all(gq[0, :, torch.arange(n) != i] == 0)
        # and it is exactly the allowed keys that receive gradient through v
        touched = gv[0].abs().sum((0, 2)) > 0
        assert torch.equal(touched, allowed[i])


def test_blocked_never_allocates_an_n_by_n_tensor():
    n, l = 2048, 45
    q, k, v = (torch.randn(1, 1, n, 32, requires_grad=True) for _ in range(3))
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        out = sp.attention(q, k, v, "strided", l)
        out.sum().backward()
    biggest = max(e.cpu_memory_usage for e in prof.events())
    assert biggest < n * n * 4 / 8            # an n x n fp32 matrix would be 16 MiB
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        reference_attention(q, k, v, "strided", l).sum().backward()
    assert max(e.cpu_memory_usage for e in prof.events()) >= n * n   # the reference does (its bool mask)


@settings(max_examples=30, deadline=None)
@given(pattern=st.sampled_from(["strided", "fixed"]), n=st.integers(1, 70), l=st.integers(1, 12),
       c_frac=st.floats(0.0, 1.0), part=st.sampled_from(["merged", "A1", "A2"]), chunk=st.sampled_from([64, 1 << 19]))
def test_blocked_equals_reference_for_any_shape(pattern, n, l, c_frac, part, chunk):
    FA.CHUNK_ELEMENTS, old = chunk, FA.CHUNK_ELEMENTS
    try:
        c = max(1, round(c_frac * l)) if pattern == "fixed" else None
        g = torch.Generator().manual_seed(n * 100 + l)
        q, k, v = (torch.randn(1, 2, n, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
        ref = reference_attention(q, k, v, pattern, l, c, part)
        out = blocked_attention(q, k, v, pattern, l, c, part)
        assert torch.allclose(out, ref, atol=1e-10)
        gr = torch.autograd.grad(ref.square().sum(), (q, k, v))
        go = torch.autograd.grad(out.square().sum(), (q, k, v))
        assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(go, gr, strict=True))
    finally:
        FA.CHUNK_ELEMENTS = old
