"""The GPT-f policy and value model: an ``ilya.nn`` decoder trained as a causal LM (paper §3.3, §4).

`encode_example` lays out ``GOAL <goal> PROOFSTEP <step> <eos>`` with the loss on the step only;
`encode_value` lays out ``GOAL <goal> VALUE PROVABLE|UNPROVABLE`` with the loss on the last token.
`LMPolicy` samples ``e`` steps per goal (the prompt is run once, its KV cache copied to the ``e`` rows)
and reads values as ``log P(PROVABLE) - log(P(PROVABLE) + P(UNPROVABLE))``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.prover.format import PROVABLE, UNPROVABLE, Expr, parse_step, prompt, value_prompt
from ilya.prover.search import Candidate
from ilya.prover.tokenizer import Tokenizer


def encode_example(tok: Tokenizer, prompt_text: str, completion: str) -> tuple[list[int], int]:
    """Token ids of prompt+completion+eos and the prompt length (loss starts there)."""
    p = tok.encode(prompt_text)
    c = tok.encode(completion)
    return p + c + [tok.eos_id], len(p)


def encode_value(tok: Tokenizer, goal: Expr, provable: bool) -> tuple[list[int], int]:
    p = tok.encode(value_prompt(goal))
    return p + [tok.token_id(PROVABLE if provable else UNPROVABLE)], len(p)


def collate(seqs: list[tuple[list[int], int]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ``idx``, ``targets`` (-1 on pads) and ``loss_mask`` (1 on completion targets)."""
    T = max(len(s) for s, _ in seqs) - 1
    B = len(seqs)
    idx = torch.full((B, T), pad, dtype=torch.long)
    tgt = torch.full((B, T), -1, dtype=torch.long)
    mask = torch.zeros((B, T), dtype=torch.float32)
    for b, (s, p) in enumerate(seqs):
        n = len(s) - 1
        idx[b, :n] = torch.tensor(s[:-1])
        tgt[b, :n] = torch.tensor(s[1:])
        mask[b, p - 1:n] = 1.0  # predict the completion's tokens (and eos), not the prompt
    return idx, tgt, mask


class PackedExamples:
    """Tokenized examples as one flat int32 array plus offsets (millions fit in memory)."""

    def __init__(self, seqs: list[tuple[list[int], int]]) -> None:
        lens = np.array([len(s) for s, _ in seqs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lens)])
        self.data = np.fromiter((t for s, _ in seqs for t in s), dtype=np.int32, count=int(lens.sum()))
        self.prompt_len = np.array([p for _, p in seqs], dtype=np.int32)

    def __len__(self) -> int:
        return len(self.prompt_len)

    def __getitem__(self, i: int) -> tuple[list[int], int]:
        return self.data[self.offsets[i]:self.offsets[i + 1]].tolist(), int(self.prompt_len[i])

    def batch(self, rng: np.random.Generator, size: int) -> list[tuple[list[int], int]]:
        return [self[int(i)] for i in rng.integers(0, len(self), size)]


class LMPolicy:
    """Samples proof steps from a trained model (implements `ilya.prover.search.Policy`)."""

    def __init__(self, model: Any, tok: Tokenizer, device: torch.device | str = "cpu",
                 temperature: float = 1.0, max_new_tokens: int = 96) -> None:
        self.model, self.tok = model.to(device).eval(), tok
        self.device = torch.device(device)
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.block_size = model.cfg.block_size
        self.vals = (tok.token_id(PROVABLE), tok.token_id(UNPROVABLE))
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(0)

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    @torch.no_grad()
    def sample(self, goal: Expr, e: int) -> list[tuple[str, float]]:
        """``e`` completions (text, summed log-probability under the model) for one goal."""
        return self.sample_many([goal], e)[0]

    @torch.no_grad()
    def sample_many(self, goals: list[Expr], e: int) -> list[list[tuple[str, float]]]:
        from ilya.nn import KVCache

        m = self.model
        prompts = [self.tok.encode(prompt(g)) for g in goals]
        out: list[list[tuple[str, float]]] = [[] for _ in goals]
        ok = [i for i, p in enumerate(prompts) if len(p) < self.block_size - 4]
        if not ok:
            return out
        # one batched prefill of every prompt (right-padded: causal attention never sees the pads)
        L = max(len(prompts[i]) for i in ok)
        idx = torch.full((len(ok), L), self.tok.pad_id, dtype=torch.long, device=self.device)
        for r, i in enumerate(ok):
            idx[r, :len(prompts[i])] = torch.tensor(prompts[i], device=self.device)
        caches = [KVCache() for _ in m.blocks]
        h = m.hidden(idx, caches)                                    # (G, L, C)
        for r, i in enumerate(ok):
            n = len(prompts[i])
            rows = [KVCache(c.k[r:r + 1, :, :n].expand(e, -1, -1, -1),
                            c.v[r:r + 1, :, :n].expand(e, -1, -1, -1)) for c in caches]
            last = h[r:r + 1, n - 1].expand(e, -1)                  # (e, C)
            out[i] = self._decode(rows, last, n, e)
        return out

    def _decode(self, caches: list[Any], h: torch.Tensor, pos: int, e: int) -> list[tuple[str, float]]:
        m, eos = self.model, self.tok.eos_id
        done = torch.zeros(e, dtype=torch.bool, device=self.device)
        logp = torch.zeros(e, device=self.device)
        toks: list[torch.Tensor] = []
        steps = min(self.max_new_tokens, self.block_size - pos)
        for t in range(steps):
            logits = m.lm_head(h).float()                             # (e, V)
            lp = torch.log_softmax(logits, dim=-1)
            if self.temperature <= 0:
                nxt = lp.argmax(-1)
            else:
                probs = torch.softmax(logits / self.temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=self.generator).squeeze(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
            logp += torch.where(done, torch.zeros_like(logp), lp.gather(-1, nxt[:, None]).squeeze(-1))
            toks.append(nxt)
            done |= nxt == eos
            if bool(done.all()) or t == steps - 1:
                break
            h = m.hidden(nxt[:, None], caches, start=pos + t)[:, -1]
        seq = torch.stack(toks, 1).tolist()
        res = []
        for r in range(e):
            ids = seq[r]
            if eos not in ids:  # ran out of tokens: not a complete step
                res.append(("", -math.inf))
                continue
            res.append((self.tok.decode(ids[:ids.index(eos)]), float(logp[r])))
        return res

    def propose(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        samples = self.sample_many(goals, e)
        return [[(parse_step(text) if text else None, lp) for text, lp in s] for s in samples]

    @torch.no_grad()
    def value(self, goals: list[Expr]) -> list[float]:
        out: list[float] = []
        for k in range(0, len(goals), 64):
            chunk = goals[k:k + 64]
            ids = [self.tok.encode(value_prompt(g))[-self.block_size:] for g in chunk]
            L = max(len(s) for s in ids)
            idx = torch.full((len(ids), L), self.tok.pad_id, dtype=torch.long, device=self.device)
            for r, s in enumerate(ids):
                idx[r, :len(s)] = torch.tensor(s, device=self.device)
            logits, _ = self.model(idx)
            last = logits[torch.arange(len(ids)), torch.tensor([len(s) - 1 for s in ids])]  # (G, V)
            two = torch.log_softmax(last[:, list(self.vals)], dim=-1)
            out += two[:, 0].tolist()
        return out


def save_model(path: Path, model: Any, tok: Tokenizer, extra: dict[str, Any] | None = None) -> None:
    """Write ``model.safetensors`` + ``model.json`` + ``tokenizer.json`` into the folder ``path``."""
    from dataclasses import asdict

    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tok.save(path / "tokenizer.json")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / "model.safetensors.tmp"))
    (path / "model.safetensors.tmp").replace(path / "model.safetensors")
    (path / "model.json").write_text(json.dumps({"transformer": asdict(model.cfg), **(extra or {})}, indent=2))


def load_model(path: Path, device: str | torch.device = "cpu") -> tuple[Any, Tokenizer, dict[str, Any]]:
    """Read what `save_model` wrote (a run folder's ``model/``)."""
    from safetensors.torch import load_file

    from ilya.core.errors import IlyaError
    from ilya.nn import Transformer, TransformerConfig
    from ilya.prover.tokenizer import load_tokenizer

    path = Path(path)
    if not (path / "model.json").is_file():
        raise IlyaError("no trained model here: run `ilya prover train` first", file=path)
    meta = json.loads((path / "model.json").read_text())
    tc = dict(meta["transformer"])
    if tc.get("image_shape") is not None:
        tc["image_shape"] = tuple(tc["image_shape"])
    model = Transformer(TransformerConfig(**tc))
    model.load_state_dict(load_file(str(path / "model.safetensors")))
    return model.to(device).eval(), load_tokenizer(path / "tokenizer.json"), meta
