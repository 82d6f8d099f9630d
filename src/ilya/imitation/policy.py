"""The paper's networks (section 4): demonstration network, context network, manipulation network.

Every observation splits into the gripper's state (hand position and opening) and, per block slot, its
position relative to the gripper and a present flag.  Blocks are handled alike (weights shared over
blocks), so the same network serves scenes of any number of blocks up to ``max_blocks``.

* Each block's embedding includes a learned embedding of its label, so "put b on a" can be said.
* `NeighbourhoodAttention`: each block attends over the other present blocks, with keys and values that
  see where each neighbour is relative to it (plain dot-product attention, less a learned multiple of
  the squared distance, so a block first sees the blocks it touches).
* `DemonstrationNetwork`: per time step, an embedding of each block and neighbourhood attention; then
  dilated temporal convolutions along time, per block.  Temporal dropout (`temporal_dropout`) keeps a
  random 5 % of the demonstration's steps in training (p = 0.95) and a regular 5 % at test time.
* `ContextNetwork`: the current state, embedded the same way, queries the demonstration along time, per
  block; then attention heads over blocks pick out what matters now (their outputs carry the attended
  blocks' positions relative to the gripper).
* `ManipulationNetwork`: an MLP from the gripper's state and the context to the action (3-D move and a
  grip logit).

Ours, beside the paper's (flags of `ModelConfig`, docs/imitation.md): `aux_loss` makes attention head 0
name the current stage's block to move and head 1 the block it goes on; head 1 sees head 0's pick
(``chained_heads``); kept demonstration steps carry their rank (``time_feature``); label embeddings can be
permuted per example (``random_tags``); the readout adds every slot flat, a max over blocks and the attended
positions in hand steps.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ilya.imitation.config import ModelConfig

STEP = 0.03
"""metres of the hand's largest step (`ilya.imitation.env.MAX_MOVE`)"""
MAX_LABELS = 10
"""block labels a-j: each slot has a learned label embedding (which block goes on which is about labels)"""


def split_obs(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(..., 4 + 4B) -> gripper state (..., 4), block positions relative to the gripper (..., B, 3), present (..., B)."""
    grip = obs[..., :4]
    blocks = obs[..., 4:].reshape(*obs.shape[:-1], -1, 4)
    return grip, blocks[..., :3], blocks[..., 3] > 0.5


class NeighbourhoodAttention(nn.Module):
    """Each block attends over the present blocks; keys and values see the neighbour's relative position."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.rel = nn.Linear(3, 2 * dim)
        self.out = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)
        self.dim = dim
        self.locality = nn.Parameter(torch.tensor(4.0))

    def forward(self, h: torch.Tensor, pos: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """h (N, B, d), pos (N, B, 3), present (N, B) -> (N, B, d)."""
        q = self.q(h)                                                    # N B d
        k, v = self.kv(h).chunk(2, dim=-1)                               # N B d
        delta = pos[:, None, :, :] - pos[:, :, None, :]                   # N B(i) B(j) 3
        rk, rv = self.rel(delta).chunk(2, dim=-1)                         # N B(i) B(j) d
        keys = k[:, None, :, :] + rk
        vals = v[:, None, :, :] + rv
        logits = (q[:, :, None, :] * keys).sum(-1) / math.sqrt(self.dim)  # N B B
        logits = logits - self.locality * (delta * delta).sum(-1)         # the neighbourhood: near blocks first
        eye = torch.eye(present.shape[1], dtype=torch.bool, device=present.device)
        logits = logits.masked_fill(~present[:, None, :] | eye[None], -1e9)
        att = torch.softmax(logits, dim=-1)
        ctx = (att[..., None] * vals).sum(2)                              # N B d
        h = h + self.out(torch.cat([h, ctx], dim=-1))
        return self.norm(h) * present[..., None]


class BlockEncoder(nn.Module):
    """Embedding of every block from its relative position and the gripper's state, then neighbourhood attention."""

    def __init__(self, dim: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(3 + 4, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.label = nn.Embedding(MAX_LABELS, dim)
        self.layers = nn.ModuleList(NeighbourhoodAttention(dim) for _ in range(layers))

    def forward(self, obs: torch.Tensor, tags: torch.Tensor | None = None) -> torch.Tensor:
        """obs (N, D) -> (N, B, d); ``tags`` (N, B): which label embedding each slot gets (default: its own)."""
        grip, rel, present = split_obs(obs)
        g = torch.cat([grip[:, :3] * 10.0, grip[:, 3:]], dim=-1)
        feats = torch.cat([rel * 10.0, g[:, None, :].expand(-1, rel.shape[1], -1)], dim=-1)
        labels = self.label.weight[: rel.shape[1]][None, :, :] if tags is None else self.label(tags)
        h = (self.embed(feats) + labels) * present[..., None]
        for layer in self.layers:
            h = layer(h, rel * 10.0, present)
        return h


class DemonstrationNetwork(nn.Module):
    """Demonstration (Bt, T, D) with a mask of its kept steps -> per step and block embeddings (Bt, T, B, d)."""

    def __init__(self, cfg: ModelConfig, encoder: BlockEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.convs = nn.ModuleList(nn.Conv1d(cfg.dim, cfg.dim, 3, dilation=d, padding=d) for d in cfg.conv_dilations)
        self.time = nn.Linear(3, cfg.dim) if cfg.time_feature else None

    def forward(self, demo: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor | None = None) -> torch.Tensor:
        bt, t, dim_obs = demo.shape
        tt = None if tags is None else tags[:, None, :].expand(-1, t, -1).reshape(bt * t, -1)
        h = self.encoder(demo.reshape(bt * t, dim_obs), tt)                 # (Bt T) B d
        b, d = h.shape[1], h.shape[2]
        if self.time is not None:
            # ours: where a kept step lies in the demonstration (its rank among the kept steps, 0 first, 1 last;
            # a lone final state is last), so "which block was moved first" can be read off
            m = mask.to(h.dtype)
            last = m.sum(1, keepdim=True) - 1.0
            frac = 1.0 - (last - (torch.cumsum(m, 1) - 1.0)) / last.clamp(min=1.0)   # Bt T (a lone step: 1)
            tf = torch.stack([frac, torch.sin(math.pi * frac), torch.cos(math.pi * frac)], dim=-1)
            h = h + self.time(tf).reshape(bt * t, 1, d) * demo.new_ones(1, b, 1)
        h = h.reshape(bt, t, b, d).permute(0, 2, 3, 1).reshape(bt * b, d, t)
        m = mask[:, None, None, :].expand(bt, b, 1, t).reshape(bt * b, 1, t).to(h.dtype)
        for conv in self.convs:
            h = (h + F.relu(conv(h * m))) * m
        return h.reshape(bt, b, d, t).permute(0, 3, 1, 2)


class ContextNetwork(nn.Module):
    """Attention over the demonstration's time steps (per block), then over blocks, given the current state."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.dim
        self.tq = nn.Linear(2 * d, d)
        self.tk = nn.Linear(d, d)
        self.tv = nn.Linear(d, d)
        self.mix = nn.Sequential(nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, d))
        self.heads = cfg.heads
        self.chained = cfg.chained_heads and cfg.heads > 1
        if self.chained:
            # ours: head 0 asks "which block now" from the state; the other heads also see what head 0 found
            self.bq = nn.Linear(d + 4, d)
            self.bq_rest = nn.Linear(2 * d + 4 + (6 if cfg.step_scaled else 3), (cfg.heads - 1) * d)
        else:
            self.bq = nn.Linear(d + 4, cfg.heads * d)
        self.bk = nn.Linear(d, cfg.heads * d)
        self.bv = nn.Linear(d, d)
        self.sharpness = nn.Parameter(torch.tensor(1.0))
        self.dim = d
        self.block_readout = cfg.block_readout
        self.step_scaled = cfg.step_scaled
        self.pool = nn.Sequential(nn.Linear(d + 3, d), nn.ReLU(), nn.Linear(d, d)) if cfg.pooled_readout else None
        self.slots = cfg.max_blocks
        self.last_logits: torch.Tensor | None = None
        """the attention logits over blocks of the last call (Bt, heads, B): what the auxiliary loss supervises"""

    def _attend(self, q: torch.Tensor, hk: torch.Tensor, present: torch.Tensor, vals: torch.Tensor,
                force: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """q (Bt, h, d), hk (Bt, B, h, d) -> logits (Bt, h, B) and attended values (Bt, h, k)."""
        d = self.dim
        # a learned sharpness: the attended blocks' positions must not blur into their neighbours'
        bl = torch.einsum("nhd,nbhd->nhb", q, hk) * (F.softplus(self.sharpness) * 4.0 / math.sqrt(d))
        bl = bl.masked_fill(~present[:, None, :], -1e9)
        ba = torch.softmax(bl, dim=-1)                                       # Bt h B
        if force is not None:
            # teacher forcing (training only): the labelled block's one-hot where a label is given
            hot = F.one_hot(force.clamp(min=0), present.shape[1]).to(ba.dtype)
            ba = torch.where((force >= 0)[..., None], hot, ba)
        return bl, torch.einsum("nhb,nbk->nhk", ba, vals)

    def forward(self, cur: torch.Tensor, grip: torch.Tensor, rel: torch.Tensor, present: torch.Tensor,
                demo: torch.Tensor, mask: torch.Tensor, force: torch.Tensor | None = None) -> torch.Tensor:
        """cur (Bt, B, d) current block embeddings; demo (Bt, T, B, d) with mask (Bt, T) -> (Bt, heads*(d+3)).

        ``force`` (Bt, heads) block indices (-1: none) replaces those heads' attention by the given block.
        """
        bt, b, d = cur.shape
        pres = present[..., None].to(cur.dtype)
        pooled = (cur * pres).sum(1) / pres.sum(1).clamp(min=1.0)           # Bt d
        q = self.tq(torch.cat([cur, pooled[:, None, :].expand(-1, b, -1)], dim=-1))   # Bt B d
        k = self.tk(demo)                                                    # Bt T B d
        v = self.tv(demo)
        logits = torch.einsum("nbd,ntbd->nbt", q, k) / math.sqrt(d)
        logits = logits.masked_fill(~mask[:, None, :], -1e9)
        att = torch.softmax(logits, dim=-1)
        r = torch.einsum("nbt,ntbd->nbd", att, v)
        e = self.mix(torch.cat([cur, r], dim=-1)) * pres                    # Bt B d
        g = torch.cat([(e * pres).sum(1) / pres.sum(1).clamp(min=1.0), grip], dim=-1)
        hk = self.bk(e).reshape(bt, b, self.heads, d)
        vals = torch.cat([self.bv(e), rel * 10.0], dim=-1)                   # Bt B d+3
        if self.step_scaled:
            # ours: the relative position in hand steps, clipped (the scripted expert's move towards a block)
            vals = torch.cat([vals, (rel / STEP).clamp(-1.0, 1.0)], dim=-1)   # Bt B d+6
        if self.chained:
            f0 = None if force is None else force[:, :1]
            l0, h0 = self._attend(self.bq(g).reshape(bt, 1, d), hk[:, :, :1], present, vals, f0)
            qr = self.bq_rest(torch.cat([g, h0[:, 0]], dim=-1)).reshape(bt, self.heads - 1, d)
            fr = None if force is None else force[:, 1:]
            lr, hr = self._attend(qr, hk[:, :, 1:], present, vals, fr)
            bl, att_vals = torch.cat([l0, lr], dim=1), torch.cat([h0, hr], dim=1)
        else:
            bl, att_vals = self._attend(self.bq(g).reshape(bt, self.heads, d), hk, present, vals, force)
        self.last_logits = bl
        parts = [att_vals.reshape(bt, -1)]
        if self.pool is not None:
            # ours: a max over the present blocks of a per-block feature (e.g. the height of the highest tower)
            f = self.pool(torch.cat([e, rel * 10.0], dim=-1)).masked_fill(~present[..., None], -1e4)
            parts.append(f.max(1).values)
        if self.block_readout:
            # ours: every block slot's context embedding and relative position, flat (slots are labelled a, b, ...)
            flat = torch.cat([e, rel * 10.0 * pres, pres], dim=-1)             # Bt B d+4 (absent slots: 0)
            if b < self.slots:
                flat = F.pad(flat, (0, 0, 0, self.slots - b))
            parts.append(flat.reshape(bt, -1))
        return torch.cat(parts, dim=-1)


class ManipulationNetwork(nn.Module):
    """MLP: gripper state and context -> [dx, dy, dz] (tanh) and a grip logit."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        width = (4 + cfg.heads * (cfg.dim + (6 if cfg.step_scaled else 3))
                 + (cfg.max_blocks * (cfg.dim + 4) if cfg.block_readout else 0) + (cfg.dim if cfg.pooled_readout else 0))
        self.mlp = nn.Sequential(nn.Linear(width, cfg.hidden), nn.ReLU(),
                                 nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 4))

    def forward(self, grip: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([grip, context], dim=-1))


class OneShotPolicy(nn.Module):
    """π(action | demonstration, current state)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = BlockEncoder(cfg.dim, cfg.block_layers)
        self.demo_net = DemonstrationNetwork(cfg, self.encoder)
        self.context_net = ContextNetwork(cfg)
        self.manip_net = ManipulationNetwork(cfg)

    def encode_demo(self, demo: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor | None = None) -> torch.Tensor:
        return self.demo_net(demo, mask, tags)

    def act_from(self, demo_emb: torch.Tensor, mask: torch.Tensor, obs: torch.Tensor,
                 force: torch.Tensor | None = None, tags: torch.Tensor | None = None) -> torch.Tensor:
        """Raw outputs (Bt, 4): move pre-activations (tanh gives the move) and the grip logit."""
        grip, rel, present = split_obs(obs)
        cur = self.encoder(obs, tags)
        ctx = self.context_net(cur, grip, rel, present, demo_emb, mask, force)
        return self.manip_net(grip, ctx)

    def forward(self, demo: torch.Tensor, mask: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        return self.act_from(self.encode_demo(demo, mask), mask, obs)

    def outputs(self, demo: torch.Tensor, mask: torch.Tensor, obs: torch.Tensor, force: torch.Tensor | None = None,
                tags: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw outputs (Bt, 4) and the context network's attention logits over blocks (Bt, heads, B).

        ``tags`` (Bt, B): the label embedding of each slot (one example's demonstration and state alike)."""
        out = self.act_from(self.encode_demo(demo, mask, tags), mask, obs, force, tags)
        logits = self.context_net.last_logits
        assert logits is not None
        return out, logits


GRIP_SWITCH_WEIGHT = 5.0
"""ours: weight of the grip's cross-entropy on the rare steps where the expert closes an open gripper or opens a
closed one (one step per grasp or release); unweighted, the policy learns to stand still above the block with
the gripper open forever (docs/imitation.md, sanity checks)"""


def bc_loss(out: torch.Tensor, action: torch.Tensor, obs: torch.Tensor | None = None, fine_weight: float = 1.0
            ) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean absolute error of the move (tanh of the first three outputs) plus 0.1 x the grip's binary cross-entropy.

    With ``obs`` (the states), the grip's cross-entropy weighs the steps where the expert switches the
    gripper `GRIP_SWITCH_WEIGHT` times more.  ``fine_weight`` (ours) weighs the move error of the steps where
    the expert's move is small but not zero (no component saturated: the fine approach to a block) that
    many times more.
    """
    if fine_weight != 1.0:
        err = (torch.tanh(out[:, :3]) - action[:, :3]).abs()
        peak = action[:, :3].abs().amax(-1)
        wm = 1.0 + (fine_weight - 1.0) * ((peak > 1e-3) & (peak < 0.99)).to(out.dtype)
        move = (err.mean(-1) * wm).sum() / wm.sum()
    else:
        move = F.l1_loss(torch.tanh(out[:, :3]), action[:, :3])
    target = (action[:, 3] > 0).to(out.dtype)
    if obs is None:
        grip = F.binary_cross_entropy_with_logits(out[:, 3], target)
    else:
        closed = (obs[:, 3] < 0.5).to(out.dtype)
        w = 1.0 + (GRIP_SWITCH_WEIGHT - 1.0) * (target != closed).to(out.dtype)
        grip = (F.binary_cross_entropy_with_logits(out[:, 3], target, reduction="none") * w).sum() / w.sum()
    return move + 0.1 * grip, {"move_l1": move.item(), "grip_bce": grip.item()}


def aux_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Ours: cross-entropy of the block attention's logits (Bt, heads, B) against the current stage's blocks.

    ``labels`` (Bt, 2): the block to move now (supervises head 0) and the block it goes on (head 1); -1 where
    every stage is done (ignored).  Returns the mean of the two cross-entropies and their accuracies.
    """
    n = min(labels.shape[1], logits.shape[1])
    losses, parts = [], {}
    for h, name in list(enumerate(("source", "target")))[:n]:
        y = labels[:, h]
        ok = y >= 0
        if not bool(ok.any()):
            continue
        lg = logits[:, h][ok]
        losses.append(F.cross_entropy(lg, y[ok]))
        parts[f"{name}_acc"] = float((lg.argmax(-1) == y[ok]).float().mean())
    if not losses:
        return logits.sum() * 0.0, parts
    return torch.stack(losses).mean(), parts


def to_action(out: torch.Tensor) -> np.ndarray:
    """Network outputs (N, 4) -> environment actions (N, 4)."""
    move = torch.tanh(out[:, :3])
    grip = torch.where(out[:, 3:] > 0, 1.0, -1.0)
    return torch.cat([move, grip], dim=-1).detach().cpu().numpy()


# ---------------------------------------------------------------------------- temporal dropout
def dropout_indices(length: int, p: float, rng: np.random.Generator | None, keep_final: bool = False
                    ) -> np.ndarray:
    """Kept step indices of a demonstration of ``length + 1`` observations.

    Training (``rng`` given): each step is kept with probability 1 - p (at least one; with ``keep_final``
    the final step always, as at test time).  Test: every ``round(1 / (1 - p))``-th step counted back
    from the final one, so the final state is always kept.
    """
    n = length + 1
    if p <= 0:
        return np.arange(n)
    if rng is not None:
        keep = rng.random(n) >= p
        if keep_final:
            keep[-1] = True
        idx = np.flatnonzero(keep)
        return idx if len(idx) else np.array([int(rng.integers(n))])
    stride = max(1, round(1.0 / (1.0 - p)))
    return np.arange(n - 1, -1, -stride)[::-1].copy()


def pack_demos(demos: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Variable-length (K_i, D) arrays -> padded (N, K, D) tensor and its (N, K) mask."""
    k = max(len(d) for d in demos)
    dim = demos[0].shape[1]
    out = np.zeros((len(demos), k, dim), np.float32)
    mask = np.zeros((len(demos), k), bool)
    for i, d in enumerate(demos):
        out[i, : len(d)] = d
        mask[i, : len(d)] = True
    return torch.from_numpy(out), torch.from_numpy(mask)
