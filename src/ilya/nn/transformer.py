"""A decoder-only pre-norm transformer (GPT-2 layout, Sparse Transformer details from Child et al. 2019).

§5.2: pre-norm residual blocks, GELU MLP, residual projections initialised with std ``0.02/sqrt(2N)``,
learned or factorized positional embeddings (row, column and channel embeddings summed, for images);
§5.4: per-block activation recomputation (``torch.utils.checkpoint``); bf16/fp16 autocast on CUDA;
KV-cache sampling with temperature and nucleus (top-p) filtering.

Usage::

    cfg = TransformerConfig(vocab_size=256, block_size=512, n_layer=4, n_head=4, n_embd=256,
                            attn="strided", stride=32)
    model = Transformer(cfg)
    logits, loss = model(idx, targets, loss_mask=None)   # idx, targets (B, T) long
    out = model.generate(idx, 100, temperature=1.0, top_p=0.9, stop_token=None)
    logp = model.sequence_logprob(idx, targets, loss_mask)  # (B,) summed log-probabilities
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from ilya.nn.attention import CausalSelfAttention, KVCache, ResidualProjection, scaled_init_std

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class TransformerConfig:
    """Shape and options of a `Transformer`; every field has a default except ``vocab_size``."""

    vocab_size: int
    block_size: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.0
    attn: str = "dense"               # dense | strided | fixed
    stride: int | None = None         # l: stride (strided) or block length (fixed); default ~sqrt(block_size)
    c: int | None = None              # fixed pattern: summary positions per block (default l // 8, >= 1)
    attn_mode: str = "merged"         # merged | interleaved | multihead (§4.3)
    attn_impl: str = "auto"           # auto | blocked | reference | flex (see ilya.nn.factorized_attention)
    pos_emb: str = "learned"          # learned | factorized (needs image_shape)
    image_shape: tuple[int, int, int] | None = None  # (H, W, C) of raster-order image tokens
    recompute: bool = False           # torch.utils.checkpoint per block (§5.4)
    precision: str = "fp32"           # fp32 | bf16 | fp16: autocast dtype on CUDA (fp32 on CPU)
    bias: bool = True
    mlp_ratio: int = 4

    def resolved_stride(self) -> int:
        return self.stride or max(2, int(round(math.sqrt(self.block_size))))

    def resolved_c(self) -> int:
        return self.c or max(1, self.resolved_stride() // 8)


class MLP(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, cfg.mlp_ratio * cfg.n_embd, bias=cfg.bias)
        self.c_proj = ResidualProjection(cfg.mlp_ratio * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    """x + attn(norm(x)), then x + mlp(norm(x)): the pre-norm residual block of §5.2."""

    def __init__(self, cfg: TransformerConfig, layer_index: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg.n_embd, cfg.n_head, cfg.dropout, cfg.attn,
                                        cfg.resolved_stride(), cfg.resolved_c(), cfg.attn_mode,
                                        layer_index, cfg.attn_impl)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class FactorizedPositions(nn.Module):
    """Position ``t`` of a raster-order (H, W, C) image gets row + column + channel embeddings (§5.2)."""

    def __init__(self, shape: tuple[int, int, int], n_embd: int) -> None:
        super().__init__()
        self.shape = tuple(shape)
        H, W, C = self.shape
        self.row, self.col, self.chan = nn.Embedding(H, n_embd), nn.Embedding(W, n_embd), nn.Embedding(C, n_embd)

    def forward(self, pos: torch.Tensor) -> torch.Tensor:
        _, W, C = self.shape
        return self.row(pos // (W * C)) + self.col((pos // C) % W) + self.chan(pos % C)


class Transformer(nn.Module):
    """Decoder-only transformer over integer tokens ``(B, T)``, T <= block_size."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        if cfg.precision not in PRECISIONS:
            raise ValueError(f"precision {cfg.precision!r}: expected one of {', '.join(PRECISIONS)}")
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        if cfg.pos_emb == "learned":
            self.wpe: nn.Module = nn.Embedding(cfg.block_size, cfg.n_embd)
        elif cfg.pos_emb == "factorized":
            if cfg.image_shape is None:
                raise ValueError("pos_emb='factorized' needs image_shape=(H, W, C)")
            if math.prod(cfg.image_shape) < cfg.block_size:
                raise ValueError(f"image_shape {cfg.image_shape} has fewer positions than block_size")
            self.wpe = FactorizedPositions(cfg.image_shape, cfg.n_embd)
        else:
            raise ValueError(f"pos_emb {cfg.pos_emb!r}: expected learned or factorized")
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg, i) for i in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.apply(self._init_weights)

    def _init_weights(self, m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            std = scaled_init_std(0.02, self.cfg.n_layer) if isinstance(m, ResidualProjection) else 0.02
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        dtype = PRECISIONS[self.cfg.precision]
        if dtype is None or device.type != "cuda":
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=dtype)

    def hidden(self, idx: torch.Tensor, caches: list[KVCache] | None = None, start: int = 0,
               positions: torch.Tensor | None = None) -> torch.Tensor:
        """Final normed hidden states ``(B, T, n_embd)`` for tokens at positions start..start+T-1.

        ``positions`` ``(B, T)`` gives each row its own positions instead: rows of different lengths
        decoded together from right-padded caches (see `KVCache.valid`).
        """
        B, T = idx.shape
        if positions is not None:
            pos = positions
            top = int(pos.max()) + 1 if pos.numel() else 0
        else:
            pos = torch.arange(start, start + T, device=idx.device)
            top = start + T
        if top > self.cfg.block_size:
            raise ValueError(f"sequence of {top} tokens exceeds block_size {self.cfg.block_size}")
        x = self.drop(self.wte(idx) + self.wpe(pos))             # (B, T, C)
        for i, block in enumerate(self.blocks):
            if caches is not None:
                x = block(x, caches[i])
            elif self.cfg.recompute and self.training and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.ln_f(x)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                loss_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, vocab)`` and, given targets ``(B, T)``, the mean cross-entropy (nats/token)
        over positions where ``loss_mask == 1`` (all positions when None; targets == -1 are ignored)."""
        with self._autocast(idx.device):
            logits = self.lm_head(self.hidden(idx))
        logits = logits.float()
        if targets is None:
            return logits, None
        nll = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1,
                              reduction="none").view_as(targets)
        valid = (targets != -1).float()
        if loss_mask is not None:
            valid = valid * loss_mask.float()
        loss = (nll * valid).sum() / valid.sum().clamp_min(1.0)
        return logits, loss

    @torch.no_grad()
    def sequence_logprob(self, idx: torch.Tensor, targets: torch.Tensor,
                         loss_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Summed log-probability ``(B,)`` of ``targets`` given ``idx`` over positions with loss_mask == 1."""
        logits, _ = self(idx)
        logp = torch.log_softmax(logits, dim=-1)
        tgt = targets.clamp_min(0)
        lp = logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)      # (B, T)
        valid = (targets != -1).float()
        if loss_mask is not None:
            valid = valid * loss_mask.float()
        return (lp * valid).sum(-1)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0, top_p: float = 1.0,
                 stop_token: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Append up to ``max_new_tokens`` sampled tokens to ``idx`` (B, T) using a KV cache.

        ``temperature == 0`` is greedy. Rows that emit ``stop_token`` keep emitting it (padding); sampling
        ends early once every row has stopped. Beyond ``block_size`` the context is cropped and recomputed.
        """
        was_training = self.training
        self.eval()
        B = idx.shape[0]
        done = torch.zeros(B, dtype=torch.bool, device=idx.device)
        caches: list[KVCache] | None = None
        for _ in range(max_new_tokens):
            if idx.shape[1] >= self.cfg.block_size:       # cache cannot grow: crop and recompute
                caches = None
                ctx = idx[:, -(self.cfg.block_size - 1):]
                with self._autocast(idx.device):
                    h = self.hidden(ctx)[:, -1]
            elif caches is None:
                caches = [KVCache() for _ in self.blocks]
                with self._autocast(idx.device):
                    h = self.hidden(idx, caches)[:, -1]
            else:
                with self._autocast(idx.device):
                    h = self.hidden(idx[:, -1:], caches, start=idx.shape[1] - 1)[:, -1]
            logits = self.lm_head(h).float()                 # (B, vocab)
            nxt = sample_logits(logits, temperature, top_p, generator)
            if stop_token is not None:
                nxt = torch.where(done, torch.full_like(nxt, stop_token), nxt)
                done |= nxt == stop_token
            idx = torch.cat([idx, nxt[:, None]], dim=1)
            if stop_token is not None and bool(done.all()):
                break
        self.train(was_training)
        return idx


def sample_logits(logits: torch.Tensor, temperature: float = 1.0, top_p: float = 1.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row of ``logits`` (B, V): greedy at temperature 0, else nucleus sampling."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sp, si = probs.sort(dim=-1, descending=True)
        keep = sp.cumsum(-1) - sp < top_p                     # smallest prefix with mass >= top_p
        sp = sp * keep
        probs = torch.zeros_like(probs).scatter_(-1, si, sp)
        probs = probs / probs.sum(-1, keepdim=True)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
