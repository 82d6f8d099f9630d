"""The GPT-f policy and value model: an ``ilya.nn`` decoder trained as a causal LM (paper §3.3, §4).

`encode_example` lays out ``GOAL <goal> PROOFSTEP <step> <eos>`` with the loss on the step only;
`encode_value` lays out ``GOAL <goal> VALUE PROVABLE|UNPROVABLE`` with the loss on the last token.
`LMPolicy` proposes ``e`` steps per goal (the prompt is run once, its KV cache copied to every row),
either sampled freely (the paper) or constrained to the assertions that match the goal, and reads values as ``log P(PROVABLE) - log(P(PROVABLE) + P(UNPROVABLE))``.
Every sampled row draws its random numbers from its own key (the seed, the theorem, the goal and what is
sampled), so a goal's proposals do not depend on which other goals share the batch, or on the worker.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.errors import IlyaError
from ilya.metamath import Database
from ilya.nn import Transformer, TransformerConfig
from ilya.prover.config import DECODES
from ilya.prover.format import PROVABLE, SUB_OPEN, UNPROVABLE, Expr, parse_step, prompt, value_prompt
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
    """Proposes proof steps from a trained model (implements `ilya.prover.search.Policy`).

    ``decode="sample"`` is the paper's: ``e`` completions sampled at ``temperature``, the kernel drops
    what does not apply.  ``decode="constrained"`` (the default when a database is given) asks the
    model only about steps that can apply: the assertions whose conclusion matches the goal
    (`ilya.prover.matching`) are scored by the model's log-probability of their label (teacher-forced,
    one batch); for the most probable assertions that have variables the goal does not fix, the model
    writes their terms (``term_samples`` samples after the forced label).  A step's log-probability is
    its label's, renormalised over the matching assertions, plus its terms'; the ``e`` most probable
    distinct complete steps are proposed (malformed or unfinished term samples are dropped).
    """

    def __init__(self, model: Transformer, tok: Tokenizer, device: torch.device | str = "cpu",
                 temperature: float = 1.0, max_new_tokens: int = 96, db: Database | None = None,
                 decode: str | None = None, term_samples: int = 2, max_term_tokens: int = 48) -> None:
        self.model, self.tok = model.to(device).eval(), tok
        self.device = torch.device(device)
        self.temperature, self.max_new_tokens = temperature, max_new_tokens
        self.block_size = model.cfg.block_size
        self.vals = (tok.token_id(PROVABLE), tok.token_id(UNPROVABLE))
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(0)
        self.decode = decode or ("constrained" if db is not None else "sample")
        if self.decode not in DECODES:
            raise IlyaError(f"--decode {self.decode}: expected one of {', '.join(DECODES)}")
        if self.decode == "constrained" and db is None:
            raise ValueError("constrained decoding needs the database")
        self.db, self.term_samples = db, term_samples  # db: also for the theorems' hypotheses
        self.max_term_tokens = max_term_tokens  # the free variables' terms of one step (set.mm: ~10 tokens)
        self._label_ids: dict[str, list[int]] = {}
        self._cont = tok.encode(" " + SUB_OPEN)[0]  # first token after a label that has free variables
        self._seed = 0

    def seed(self, seed: int) -> None:
        self.generator.manual_seed(seed)
        self._seed = seed

    def _uniforms(self, keys: list[str], steps: int) -> torch.Tensor:
        """``(R, steps)`` uniforms in [0, 1), row ``i`` drawn from its own key (not from a shared stream)."""
        out = np.empty((len(keys), max(steps, 1)), dtype=np.float64)
        for i, k in enumerate(keys):
            h = int.from_bytes(hashlib.blake2b(f"{self._seed}|{k}".encode(), digest_size=8).digest(), "big")
            out[i] = np.random.default_rng(h).random(out.shape[1])
        return torch.from_numpy(out).to(self.device)

    def hyps(self, theorem: str) -> list[Expr]:
        """The ``$e`` hypotheses of the theorem being proved (shown in the prompt)."""
        from ilya.prover.dataset import essential_hyps

        if self.db is None or theorem not in self.db:
            return []
        return essential_hyps(self.db, theorem)

    def _prefill(self, goals: list[Expr], theorems: list[str] | None = None
                 ) -> tuple[list[int], list[int], list[Any], torch.Tensor]:
        """One batched forward of every prompt, right-padded (causal attention never sees the pads).

        Returns the goals that fit, their prompt lengths, the layers' KV caches and the hidden states.
        """
        from ilya.nn import KVCache

        ths = theorems or [""] * len(goals)
        prompts = [self.tok.encode(prompt(g, self.hyps(t))) for g, t in zip(goals, ths, strict=True)]
        ok = [i for i, p in enumerate(prompts) if len(p) < self.block_size - 8]
        lens = [len(prompts[i]) for i in ok]
        caches = [KVCache() for _ in self.model.blocks]
        if not ok:
            return ok, lens, caches, torch.empty(0)
        idx = torch.full((len(ok), max(lens)), self.tok.pad_id, dtype=torch.long, device=self.device)
        for r, i in enumerate(ok):
            idx[r, :lens[r]] = torch.tensor(prompts[i], device=self.device)
        return ok, lens, caches, self.model.hidden(idx, caches)     # (G, L, C)

    def _gather(self, caches: list[Any], rows: list[int], lens: list[int]) -> list[Any]:
        """The prompt caches of prompt rows ``rows`` (one output row each), their padding masked."""
        from ilya.nn import KVCache

        ridx = torch.tensor(rows, dtype=torch.long, device=self.device)
        L = caches[0].k.shape[2]
        n = torch.tensor([lens[r] for r in rows], device=self.device)
        valid = torch.arange(L, device=self.device)[None] < n[:, None]      # (R, L)
        return [KVCache(c.k[ridx], c.v[ridx], valid=valid) for c in caches]

    def _force(self, caches: list[Any], seqs: list[list[int]], base: torch.Tensor) -> torch.Tensor:
        """Run given tokens (one list per row, right-padded) after each row's prefix; ``(R, F, C)``.

        Row ``j``'s tokens take positions ``base[j], base[j] + 1, ...``; the padding is masked afterwards.
        """
        F = max(len(x) for x in seqs)
        ids = torch.full((len(seqs), F), self.tok.pad_id, dtype=torch.long, device=self.device)
        for j, x in enumerate(seqs):
            ids[j, :len(x)] = torch.tensor(x, device=self.device)
        ar = torch.arange(F, device=self.device)
        h = self.model.hidden(ids, caches, positions=base[:, None] + ar[None])
        flen = torch.tensor([len(x) for x in seqs], device=self.device)
        keep = ar[None] < flen[:, None]
        for c in caches:
            c.valid = torch.cat([c.valid[:, :-F], keep], dim=1)
        return h

    @torch.no_grad()
    def sample_many(self, goals: list[Expr], e: int, theorems: list[str] | None = None
                    ) -> list[list[tuple[str, float]]]:
        """``e`` completions per goal, every goal's rows sampled in one batch."""
        out: list[list[tuple[str, float]]] = [[] for _ in goals]
        ok, lens, caches, h = self._prefill(goals, theorems)
        if not ok:
            return out
        rows = [r for r in range(len(ok)) for _ in range(e)]
        ths = theorems or [""] * len(goals)
        keys = [f"{ths[ok[r]]}|{' '.join(goals[ok[r]])}|sample|{k}" for r in range(len(ok)) for k in range(e)]
        last = h[torch.tensor(rows), torch.tensor([lens[r] - 1 for r in rows])]          # (R, C)
        pos = torch.tensor([lens[r] for r in rows], device=self.device)
        res = self._decode(self._gather(caches, rows, lens), last, pos, keys=keys)
        for j, r in enumerate(rows):
            out[ok[r]].append(res[j])
        return out

    def _decode(self, caches: list[Any], h: torch.Tensor, pos: torch.Tensor,
                max_new_tokens: int | None = None, keys: list[str] | None = None) -> list[tuple[str, float]]:
        """Sample each row until ``<eos>``: (text, summed log-probability); ("", -inf) if it never ends.

        With ``keys`` (one per row) row ``i`` samples by inverse CDF from its own uniforms
        (`_uniforms`), so its tokens do not depend on the other rows; without, from the shared generator.
        Finished rows leave the batch once they are half of it, so a few long samples do not keep every
        row's cache growing.
        """
        m, eos = self.model, self.tok.eos_id
        R = h.shape[0]
        steps = min(max_new_tokens or self.max_new_tokens, self.block_size - int(pos.max()))
        live = torch.arange(R, device=self.device)           # output row of each batch row
        done = torch.zeros(R, dtype=torch.bool, device=self.device)
        logp = torch.zeros(R, device=self.device)
        toks = torch.full((R, max(steps, 1)), eos, dtype=torch.long, device=self.device)
        finished = torch.zeros(R, dtype=torch.bool, device=self.device)
        u = self._uniforms(keys, steps) if keys is not None and self.temperature > 0 else None
        for t in range(steps):
            logits = m.lm_head(h).float()                             # (r, V)
            lp = torch.log_softmax(logits, dim=-1)
            if self.temperature <= 0:
                nxt = lp.argmax(-1)
            elif u is not None:
                cdf = torch.softmax(logits.double() / self.temperature, dim=-1).cumsum(-1)
                nxt = torch.searchsorted(cdf, (u[live, t] * cdf[:, -1])[:, None], right=True).squeeze(-1)
                nxt = nxt.clamp_max(logits.shape[-1] - 1)
            else:
                probs = torch.softmax(logits / self.temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=self.generator).squeeze(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
            logp[live] += torch.where(done, torch.zeros_like(nxt, dtype=logp.dtype),
                                      lp.gather(-1, nxt[:, None]).squeeze(-1))
            toks[live, t] = nxt
            done |= nxt == eos
            finished[live[done]] = True
            if bool(done.all()) or t == steps - 1:
                break
            if int(done.sum()) * 2 >= len(live):                      # drop finished rows
                keep = (~done).nonzero().squeeze(-1)
                live, done, nxt, pos = live[keep], done[keep], nxt[keep], pos[keep]
                for c in caches:
                    c.k, c.v = c.k[keep], c.v[keep]
                    if c.valid is not None:
                        c.valid = c.valid[keep]
            h = m.hidden(nxt[:, None], caches, positions=(pos + t)[:, None])[:, -1]
        seq = toks.tolist()
        res = []
        for r in range(R):
            ids = seq[r]
            if not bool(finished[r]):  # ran out of tokens: not a complete step
                res.append(("", -math.inf))
                continue
            res.append((self.tok.decode(ids[:ids.index(eos)]), float(logp[r])))
        return res

    def propose(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        if self.decode == "constrained":
            return self._propose_constrained(goals, e, theorems)
        samples = self.sample_many(goals, e, theorems)
        return [[(parse_step(text) if text else None, lp) for text, lp in s] for s in samples]

    # ------------------------------------------------------------------ constrained decoding
    def _label(self, label: str) -> list[int]:
        ids = self._label_ids.get(label)
        if ids is None:
            ids = self._label_ids[label] = self.tok.encode(" " + label)
        return ids

    @torch.no_grad()
    def _score_labels(self, caches: list[Any], lens: list[int], h: torch.Tensor,
                      jobs: list[tuple[int, Any]], chunk: int = 32, batched: bool = True,
                      max_tokens: int = 8192) -> torch.Tensor:
        """log P(label, then ``<eos>`` or ``{{``) of each (prompt row, match), teacher-forced.

        The labels of one goal are packed into one sequence after its prompt (each label sees the prompt
        and its own earlier tokens), so the prompt's keys are not copied once per label.  A goal's labels
        are cut into rows of at most ``chunk`` labels (packed attention is quadratic in a row's length, so
        short rows waste less: 32 was the fastest of 8-128 on the CPU); with ``batched`` the rows of every
        goal of the round go through the model together (right-padded, at most ``max_tokens`` tokens per
        forward), otherwise one forward per row (`benchmarks/prover_label_scoring.py` measures both).
        """
        from ilya.nn import KVCache

        eos, dev = self.tok.eos_id, self.device
        out = torch.zeros(len(jobs) + 1, device=dev)      # the last slot takes the padding
        by_row: dict[int, list[int]] = {}
        for j, (r, _) in enumerate(jobs):
            by_row.setdefault(r, []).append(j)
        rows_used = sorted(by_row)
        first = torch.log_softmax(self.model.lm_head(
            h[torch.tensor(rows_used, device=dev), torch.tensor([lens[r] - 1 for r in rows_used], device=dev)]
        ).float(), -1)                                                                     # (G', V)
        first_of = {r: i for i, r in enumerate(rows_used)}
        seqs_of = [self._label(m.label) + [self._cont if m.free else eos] for _, m in jobs]
        jr = torch.tensor([first_of[r] for r, _ in jobs], device=dev)
        j0 = torch.tensor([x[0] for x in seqs_of], device=dev)
        out[:-1] = first[jr, j0]
        pieces: list[tuple[int, list[int], int]] = []       # (prompt row, jobs, packed tokens)
        for r, js_all in by_row.items():
            for k in range(0, len(js_all), chunk):
                js = js_all[k:k + chunk]
                pieces.append((r, js, sum(len(seqs_of[j]) - 1 for j in js)))
        if batched:   # longest first, grouped under the token budget (little padding per group)
            pieces.sort(key=lambda p: -p[2])
            groups: list[list[tuple[int, list[int], int]]] = []
            for p in pieces:
                if groups and (len(groups[-1]) + 1) * groups[-1][0][2] <= max_tokens:
                    groups[-1].append(p)
                else:
                    groups.append([p])
        else:
            groups = [[p] for p in pieces]
        for group in groups:
            P, S = len(group), max(p[2] for p in group)
            L = max(lens[r] for r, _, _ in group)
            inp = torch.full((P, S), self.tok.pad_id, dtype=torch.long)
            tgt = torch.zeros((P, S), dtype=torch.long)
            seg = torch.full((P, S), -1, dtype=torch.long)
            off = torch.zeros((P, S), dtype=torch.long)
            job = torch.full((P, S), len(jobs), dtype=torch.long)
            for q, (_, js, n_tok) in enumerate(group):
                flat = [(t, u, a, b, j) for a, j in enumerate(js)
                        for b, (t, u) in enumerate(zip(seqs_of[j][:-1], seqs_of[j][1:], strict=True))]
                cols = torch.tensor(flat, dtype=torch.long).T      # token, target, segment, offset, job
                inp[q, :n_tok], tgt[q, :n_tok], seg[q, :n_tok], off[q, :n_tok], job[q, :n_tok] = cols
            inp, tgt, seg, off, job = (x.to(dev) for x in (inp, tgt, seg, off, job))
            n = torch.tensor([lens[r] for r, _, _ in group], device=dev)
            prompt_ok = (torch.arange(L, device=dev)[None] < n[:, None])[:, None, :].expand(P, S, L)
            packed = (seg[:, :, None] == seg[:, None, :]) & (off[:, :, None] >= off[:, None, :]) \
                & (seg[:, None, :] >= 0)
            mask = torch.cat([prompt_ok, packed], dim=2)                               # (P, S, L + S)
            ridx = torch.tensor([r for r, _, _ in group], dtype=torch.long, device=dev)
            rows = [KVCache(c.k[ridx, :, :L], c.v[ridx, :, :L], mask=mask) for c in caches]
            hid = self.model.hidden(inp, rows, positions=n[:, None] + off)                # (P, S, C)
            lp = torch.log_softmax(self.model.lm_head(hid).float(), -1).gather(-1, tgt[..., None])[..., 0]
            out.index_add_(0, job.flatten(), torch.where(seg >= 0, lp, torch.zeros_like(lp)).flatten())
        return out[:-1]

    @torch.no_grad()
    def _propose_constrained(self, goals: list[Expr], e: int, theorems: list[str]) -> list[list[Candidate]]:
        from ilya.prover.format import ProofStep
        from ilya.prover.matching import matcher

        db = self.db
        assert db is not None, "constrained decoding needs the database"
        mt = matcher(db)
        out: list[list[Candidate]] = [[] for _ in goals]
        ok, lens, caches, h = self._prefill(goals, theorems)
        jobs: list[tuple[int, Any]] = []
        for r, i in enumerate(ok):
            th = theorems[i]
            jobs += [(r, m) for m in mt.matches(goals[i], db[th].index if th in db else None)]
        if not jobs:
            return out
        scores = self._score_labels(caches, lens, h, jobs)
        per_row: dict[int, list[int]] = {}
        for j, (r, _) in enumerate(jobs):
            per_row.setdefault(r, []).append(j)
        pool: dict[int, list[tuple[ProofStep, float]]] = {r: [] for r in per_row}  # complete steps, scored
        free_rows: list[int] = []   # one decode row per term sample
        free_of: list[tuple[int, str, float]] = []
        free_keys: list[str] = []
        for r, js in per_row.items():
            lp = torch.log_softmax(scores[js], 0)  # renormalised over the assertions that match
            n_free = 0
            for q in torch.argsort(lp, descending=True).tolist():
                m = jobs[js[q]][1]
                if not m.free:
                    pool[r].append((ProofStep.make(m.label, {}), float(lp[q])))
                elif n_free < max(e // 2, self.term_samples):  # terms for the e/2 most probable such labels
                    k = self.term_samples
                    n_free += k
                    free_rows += [r] * k
                    free_of += [(r, m.label, float(lp[q]))] * k
                    g = ok[r]
                    free_keys += [f"{theorems[g]}|{' '.join(goals[g])}|{m.label}|{kk}" for kk in range(k)]
        if free_rows:  # the free variables' terms: sampled after the forced label, all rows in one batch
            caches_f = self._gather(caches, free_rows, lens)
            forced = [self._label(lab) for _, lab, _ in free_of]
            base = torch.tensor([lens[r] for r in free_rows], device=self.device)
            hid = self._force(caches_f, forced, base)
            flen = torch.tensor([len(x) for x in forced], device=self.device)
            start = hid[torch.arange(len(forced)), flen - 1]
            terms = self._decode(caches_f, start, base + flen, self.max_term_tokens, keys=free_keys)
            for (r, label, lab_lp), (text, lp) in zip(free_of, terms, strict=True):
                step = parse_step(label + " " + text) if text else None
                if step is not None:
                    pool[r].append((step, lab_lp + lp))
        for r, cands in pool.items():  # the e most probable distinct complete steps
            best: dict[ProofStep, float] = {}
            for step, lp in cands:
                best[step] = max(lp, best.get(step, -math.inf))
            ranked: list[Candidate] = [(s, lp) for s, lp in sorted(best.items(), key=lambda c: -c[1])[:e]]
            out[ok[r]] = ranked
        return out

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


def save_model(path: Path, model: Transformer, tok: Tokenizer, extra: dict[str, Any] | None = None) -> None:
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


def load_model(path: Path, device: str | torch.device = "cpu") -> tuple[Transformer, Tokenizer, dict[str, Any]]:
    """Read what `save_model` wrote (a run folder's ``model/``)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from ilya.prover.tokenizer import load_tokenizer

    path = Path(path)
    if not (path / "model.json").is_file():
        raise IlyaError("no trained model here: run `ilya prover train` first", file=path)
    try:
        meta = json.loads((path / "model.json").read_text())
        tc = dict(meta["transformer"])
        if tc.get("image_shape") is not None:
            tc["image_shape"] = tuple(tc["image_shape"])
        cfg = TransformerConfig(**tc)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise IlyaError(f"not a model description written by `ilya prover train` ({type(e).__name__}: {e})",
                        file=path / "model.json") from None
    model = Transformer(cfg)
    try:
        model.load_state_dict(load_file(str(path / "model.safetensors")))
    except (SafetensorError, OSError, RuntimeError) as e:
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise IlyaError(f"unreadable or truncated model weights ({reason}); retrain or copy the file again",
                        file=path / "model.safetensors") from None
    return model.to(device).eval(), load_tokenizer(path / "tokenizer.json"), meta
