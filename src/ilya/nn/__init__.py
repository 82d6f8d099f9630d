"""Shared neural-network building blocks.

Transformer (Child et al. 2019 details; used by ``ilya.sparse`` and the GPT-f prover)::

    from ilya.nn import Transformer, TransformerConfig
    cfg = TransformerConfig(vocab_size=256, block_size=512, n_layer=4, n_head=4, n_embd=256,
                            dropout=0.0, attn="dense", recompute=False)
    model = Transformer(cfg)
    logits, loss = model(idx, targets=None, loss_mask=None)   # idx (B, T) long; loss: mean over mask==1
    out = model.generate(idx, max_new_tokens, temperature=1.0, top_p=1.0, stop_token=None)
    logp = model.sequence_logprob(idx, targets, loss_mask=None)  # (B,) summed log-probs

``attn`` is ``dense``, ``strided`` or ``fixed`` (``stride``/``c``/``attn_mode`` set the sparse pattern).

RL pieces (used by ``ilya.metarl``; meant for the other RL systems too): ``gae``, ``ppo_clip_loss`` and
``RolloutBuffer`` (``ilya.nn.ppo``), ``RecurrentActorCritic`` (GRU/LSTM policy, ``ilya.nn.recurrent``).
"""

from ilya.nn.attention import ATTN_MODES, CausalSelfAttention, KVCache
from ilya.nn.factorized_attention import PATTERNS, pattern_mask, sparse_attention
from ilya.nn.ppo import RolloutBuffer, gae, ppo_clip_loss
from ilya.nn.recurrent import RecurrentActorCritic
from ilya.nn.transformer import Transformer, TransformerConfig, sample_logits

__all__ = [
    "ATTN_MODES",
    "PATTERNS",
    "CausalSelfAttention",
    "KVCache",
    "RecurrentActorCritic",
    "RolloutBuffer",
    "Transformer",
    "TransformerConfig",
    "gae",
    "pattern_mask",
    "ppo_clip_loss",
    "sample_logits",
    "sparse_attention",
]
