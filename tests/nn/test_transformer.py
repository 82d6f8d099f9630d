"""ilya.nn.Transformer: the contract the sparse trainer and the GPT-f prover rely on."""

from __future__ import annotations

import math

import pytest
import torch

from ilya.nn import Transformer, TransformerConfig, sample_logits


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: the suite runs under xdist on a shared CPU, where thread pools only contend."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


ATTNS = ["dense", "strided", "fixed"]


def tiny(attn: str = "dense", **kw) -> Transformer:
    base = dict(vocab_size=40, block_size=32, n_layer=2, n_head=2, n_embd=32, attn=attn, stride=4, c=2)
    base.update(kw)
    torch.manual_seed(0)
    return Transformer(TransformerConfig(**base))


def test_shapes_and_masked_loss_is_mean_over_mask():
    m = tiny()
    idx = torch.randint(0, 40, (3, 10))
    tgt = torch.randint(0, 40, (3, 10))
    mask = torch.zeros(3, 10)
    mask[:, 6:] = 1
    logits, loss = m(idx, tgt, loss_mask=mask)
    assert logits.shape == (3, 10, 40)
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, 40), tgt.reshape(-1), reduction="none").view(3, 10)
    assert loss.item() == pytest.approx(nll[:, 6:].mean().item(), rel=1e-5)
    # sequence_logprob is minus the summed nll over the same positions
    lp = m.sequence_logprob(idx, tgt, mask)
    assert torch.allclose(lp, -nll[:, 6:].sum(-1), atol=1e-4)
    # targets == -1 are ignored
    tgt2 = tgt.clone()
    tgt2[:, :6] = -1
    _, loss2 = m(idx, tgt2)
    assert loss2.item() == pytest.approx(loss.item(), rel=1e-5)


def test_initial_loss_is_near_log_vocab_and_residual_init_is_scaled():
    m = tiny(n_layer=8)
    _, loss = m(torch.randint(0, 40, (4, 16)), torch.randint(0, 40, (4, 16)))
    assert abs(loss.item() - math.log(40)) < 0.1
    std_proj = m.blocks[0].attn.c_proj.weight.std().item()
    std_fc = m.blocks[0].mlp.c_fc.weight.std().item()
    assert std_proj == pytest.approx(0.02 / math.sqrt(16), rel=0.1)
    assert std_fc == pytest.approx(0.02, rel=0.1)


@pytest.mark.parametrize("attn", ATTNS)
def test_tiny_model_overfits_a_byte_string(attn):
    data = torch.tensor(list(b"the sparse transformer attends to a few keys. "), dtype=torch.long)
    m = tiny(attn, vocab_size=256, n_embd=48, block_size=64)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    x, y = data[None, :-1], data[None, 1:]
    first = None
    for _ in range(150):
        _, loss = m(x, y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 5.0
    assert loss.item() < 0.3


@pytest.mark.parametrize("attn", ATTNS)
def test_future_tokens_do_not_change_past_logits(attn):
    m = tiny(attn, attn_mode="multihead").eval()
    idx = torch.randint(0, 40, (2, 24))
    a, _ = m(idx)
    idx2 = idx.clone()
    idx2[:, 13:] = torch.randint(0, 40, (2, 11))
    b, _ = m(idx2)
    assert torch.equal(a[:, :13], b[:, :13])
    assert not torch.allclose(a[:, 13:], b[:, 13:])


@pytest.mark.parametrize("attn", ATTNS)
def test_recomputation_gives_the_same_gradients(attn):
    idx = torch.randint(0, 40, (2, 20))
    grads = []
    for recompute in (False, True):
        m = tiny(attn, recompute=recompute, dropout=0.1)
        m.train()
        torch.manual_seed(1)
        _, loss = m(idx, idx)
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


@pytest.mark.parametrize("attn", ATTNS)
@pytest.mark.parametrize("mode", ["merged", "interleaved", "multihead"])
def test_kv_cache_greedy_decoding_matches_full_recompute(attn, mode):
    m = tiny(attn, attn_mode=mode).eval()
    idx = torch.randint(0, 40, (2, 5))
    out = m.generate(idx, 20, temperature=0)
    assert out.shape == (2, 25)
    full, _ = m(out[:, :-1])
    assert torch.equal(full.argmax(-1)[:, 4:], out[:, 5:])


@pytest.mark.parametrize("attn", ATTNS)
def test_sampled_sequence_only_depends_on_its_prefix(attn):
    """KV-cache sampling draws the same tokens as a loop that sees nothing but the prefix so far."""
    m = tiny(attn).eval()
    p = torch.randint(0, 40, (2, 6))
    out = m.generate(p, 12, temperature=1.0, top_p=0.9, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    seq = p
    for _ in range(12):
        logits, _ = m(seq)
        seq = torch.cat([seq, sample_logits(logits[:, -1], 1.0, 0.9, g)[:, None]], dim=1)
    assert torch.equal(out, seq)


def test_generate_beyond_block_size_and_stop_token():
    m = tiny(block_size=16).eval()
    out = m.generate(torch.zeros(2, 4, dtype=torch.long), 30, temperature=0.8)
    assert out.shape == (2, 34)
    # a stop token that is the greedy choice stops everything at once
    idx = torch.zeros(1, 3, dtype=torch.long)
    first = m.generate(idx, 1, temperature=0)[0, -1].item()
    out = m.generate(idx, 10, temperature=0, stop_token=first)
    assert out.shape == (1, 4) and out[0, -1].item() == first


def test_top_p_keeps_the_smallest_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([sample_logits(logits, 1.0, 0.7, g) for _ in range(400)])
    assert set(draws.unique().tolist()) == {0, 1}
    assert sample_logits(logits, 0.0).item() == 0


def test_factorized_positions_for_images():
    cfg = TransformerConfig(vocab_size=256, block_size=2 * 3 * 3, n_layer=1, n_head=2, n_embd=16,
                            pos_emb="factorized", image_shape=(2, 3, 3))
    m = Transformer(cfg)
    pos = torch.arange(18)
    e = m.wpe(pos)
    # position of (row 1, col 2, channel 0) = 1*9 + 2*3 + 0
    want = m.wpe.row.weight[1] + m.wpe.col.weight[2] + m.wpe.chan.weight[0]
    assert torch.allclose(e[15], want)
    with pytest.raises(ValueError):
        Transformer(TransformerConfig(vocab_size=4, pos_emb="factorized"))


def test_too_long_input_is_an_error():
    m = tiny(block_size=8)
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 9, dtype=torch.long))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("attn", ["strided", "fixed"])
def test_cuda_flex_model_matches_cpu_blocked_model(attn):
    """On CUDA the sparse layers run FlexAttention; same weights must give the CPU (blocked) loss and grads."""
    m_cpu = tiny(attn, block_size=64)
    m_gpu = tiny(attn, block_size=64).cuda()
    idx = torch.randint(0, 40, (2, 64))
    _, l_cpu = m_cpu(idx, idx)
    _, l_gpu = m_gpu(idx.cuda(), idx.cuda())
    l_cpu.backward()
    l_gpu.backward()
    assert abs(l_cpu.item() - l_gpu.item()) < 1e-4
    g_cpu = torch.cat([p.grad.flatten() for p in m_cpu.parameters()])
    g_gpu = torch.cat([p.grad.flatten() for p in m_gpu.parameters()]).cpu()
    assert torch.allclose(g_cpu, g_gpu, atol=1e-4)


def test_rows_of_different_lengths_decode_together_from_a_padded_cache():
    """Right-padded prompts + per-row positions + `KVCache.valid` give each row its unpadded logits."""
    from ilya.nn import KVCache

    torch.manual_seed(0)
    m = Transformer(TransformerConfig(vocab_size=17, block_size=32, n_layer=2, n_head=2, n_embd=16)).eval()
    seqs = [[1, 2, 3, 4, 5, 6], [7, 8, 9], [3, 3, 3, 3, 3, 3, 3, 3]]
    nxt = [[4, 5], [6, 7], [8, 9]]
    L = max(len(s) for s in seqs)
    idx = torch.zeros(len(seqs), L, dtype=torch.long)
    for r, s in enumerate(seqs):
        idx[r, :len(s)] = torch.tensor(s)
    lens = torch.tensor([len(s) for s in seqs])
    with torch.no_grad():
        caches = [KVCache() for _ in m.blocks]
        m.hidden(idx, caches)
        for c in caches:
            c.valid = torch.arange(L)[None] < lens[:, None]
        h = m.hidden(torch.tensor(nxt), caches, positions=lens[:, None] + torch.arange(2)[None])
        for r, s in enumerate(seqs):
            want = m.hidden(torch.tensor([s + nxt[r]]))[0, len(s):]
            assert torch.allclose(h[r], want, atol=1e-5)
