"""The paper's term embedders (GRU and TreeLSTM) with embedding sharing and dynamic batching.

*Embedding sharing*: a proof state's terms are a DAG (`TermTable` hash-conses them), so each distinct
subterm is embedded once per state, however often it occurs; without sharing the trees are unfolded
and every occurrence is embedded again (`unfold`).  *Dynamic batching*: the nodes of all states of a
batch are grouped by height, and one batched call per height embeds every node whose children are done.

* TreeLSTM (child-sum, with a learned vector per child position so ``f x y`` differs from ``f y x``):
  ``i, o, u`` from the label embedding and the sum of the children's ``h``; a forget gate per child.
* GRU: a node's embedding is a GRU run over its label embedding followed by its children's embeddings.

A state's embedding is ``[conclusion; mean of hypotheses]`` and an MLP maps it to the classes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from ilya.gamepad.dataset import Example, Store, _norm

MAX_POS = 8
UNK = 0
CUT = 1


class Vocab:
    """Node labels (binder names folded to ``binder``) seen at least twice in training; the rest UNK."""

    def __init__(self, counts: Counter[str], size: int = 8000) -> None:
        common = [w for w, c in counts.most_common(size) if c >= 2]
        self.itos = ["<unk>", "<cut>", *common]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __call__(self, label: str) -> int:
        return self.stoi.get(_norm(label), UNK)

    @classmethod
    def build(cls, store: Store, examples: list[Example], max_nodes: int, size: int = 8000) -> Vocab:
        counts: Counter[str] = Counter()
        for ex in examples:
            counts.update(store.tokens(ex, max_nodes))
        return cls(counts, size)


@dataclass
class Batch:
    """Rows of all states of a batch ordered by height: labels, children edges, per-level slices."""

    labels: torch.Tensor          # (N,) vocab ids
    levels: list[tuple[int, int]]  # [start, end) rows of each height
    child: torch.Tensor           # (E,) child row of each edge
    parent: torch.Tensor          # (E,) parent row of each edge
    pos: torch.Tensor             # (E,) child position (capped)
    concl: torch.Tensor           # (B,) row of each state's conclusion
    hyp_rows: torch.Tensor        # (H,) rows of hypothesis roots
    hyp_state: torch.Tensor       # (H,) their state
    states: int
    nodes: int


def _state_graph(store: Store, ex: Example, max_nodes: int, share: bool
                 ) -> tuple[list[int], list[tuple[int, ...]], list[int]]:
    """Local nodes of one state: (label ids in store, children as local indices, root local indices)."""
    if share:
        order = store.state_nodes(ex, max_nodes)
        local = {g: k for k, g in enumerate(order)}
        kids = [tuple(local[c] for c in store.children[g]) for g in order]
        roots = [local[r] for r in ex.roots if r in local]
        return order, kids, roots
    # unfolded: every occurrence is its own node (cut at max_nodes, the rest a <cut> leaf)
    labels: list[int] = []
    kids_l: list[tuple[int, ...]] = []
    roots_l: list[int] = []

    def unfold(root: int) -> int:
        done: list[int] = []  # local indices of finished nodes, in order
        work: list[tuple[int, int]] = [(root, -1)]  # (node, -1: enter | number of children: exit)
        while work:
            g, n_kids = work.pop()
            if n_kids < 0:
                if len(labels) >= max_nodes:
                    labels.append(-1)
                    kids_l.append(())
                    done.append(len(labels) - 1)
                    continue
                ch = store.children[g]
                work.append((g, len(ch)))
                work.extend((c, -1) for c in reversed(ch))
            else:
                kids = tuple(done[len(done) - n_kids:]) if n_kids else ()
                if n_kids:
                    del done[len(done) - n_kids:]
                labels.append(g)
                kids_l.append(kids)
                done.append(len(labels) - 1)
        return done[-1]

    for r in ex.roots:
        if len(labels) >= max_nodes and roots_l:
            break
        roots_l.append(unfold(r))
    return labels, kids_l, roots_l


def make_batch(store: Store, examples: list[Example], vocab: Vocab, max_nodes: int, share: bool = True) -> Batch:
    """Dynamic batching: every node of every state, grouped by height."""
    rows_label: list[int] = []
    rows_height: list[int] = []
    edges: list[tuple[int, int, int]] = []  # (parent row, child row, position) in pre-sort numbering
    concl: list[int] = []
    hyps: list[tuple[int, int]] = []
    for s, ex in enumerate(examples):
        order, kids, roots = _state_graph(store, ex, max_nodes, share)
        base = len(rows_label)
        heights: list[int] = []
        for k, g in enumerate(order):
            h = 1 + max((heights[c] for c in kids[k]), default=-1)
            heights.append(h)
            rows_label.append(CUT if g < 0 else vocab(store.labels[g]))
            for p, c in enumerate(kids[k]):
                edges.append((base + k, base + c, min(p, MAX_POS - 1)))
        rows_height += heights
        concl.append(base + roots[0])
        hyps += [(base + r, s) for r in roots[1:]]
    n = len(rows_label)
    perm = sorted(range(n), key=lambda r: rows_height[r])
    new = [0] * n
    for k, r in enumerate(perm):
        new[r] = k
    levels: list[tuple[int, int]] = []
    start = 0
    for k in range(1, n + 1):
        if k == n or rows_height[perm[k]] != rows_height[perm[start]]:
            levels.append((start, k))
            start = k
    edges.sort(key=lambda e: new[e[0]])
    t = torch.tensor
    return Batch(
        labels=t([rows_label[r] for r in perm], dtype=torch.long), levels=levels,
        child=t([new[c] for _, c, _ in edges], dtype=torch.long),
        parent=t([new[p] for p, _, _ in edges], dtype=torch.long),
        pos=t([q for _, _, q in edges], dtype=torch.long),
        concl=t([new[c] for c in concl], dtype=torch.long),
        hyp_rows=t([new[r] for r, _ in hyps], dtype=torch.long),
        hyp_state=t([s for _, s in hyps], dtype=torch.long), states=len(examples), nodes=n)


def _edges_of_level(batch: Batch, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # edges are sorted by parent row: the ones whose parent is in [lo, hi)
    a = int(torch.searchsorted(batch.parent, torch.tensor(lo)))
    b = int(torch.searchsorted(batch.parent, torch.tensor(hi)))
    return batch.child[a:b], batch.parent[a:b] - lo, batch.pos[a:b]


class TreeLSTMEmbedder(nn.Module):
    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(MAX_POS, dim)
        self.w_iou = nn.Linear(dim, 3 * dim)
        self.u_iou = nn.Linear(dim, 3 * dim, bias=False)
        self.w_f = nn.Linear(dim, dim)
        self.u_f = nn.Linear(dim, dim, bias=False)

    def forward(self, batch: Batch) -> torch.Tensor:
        x_all = self.embed(batch.labels)
        h_all = x_all.new_zeros((0, self.dim))
        c_all = x_all.new_zeros((0, self.dim))
        for lo, hi in batch.levels:
            x = x_all[lo:hi]
            child, par, pos = _edges_of_level(batch, lo, hi)
            hc = h_all[child] + self.pos(pos) if child.numel() else x.new_zeros((0, self.dim))
            hsum = x.new_zeros((hi - lo, self.dim)).index_add(0, par, hc)
            i, o, u = (self.w_iou(x) + self.u_iou(hsum)).chunk(3, dim=-1)
            f = torch.sigmoid(self.w_f(x)[par] + self.u_f(hc))
            c = torch.sigmoid(i) * torch.tanh(u) + x.new_zeros((hi - lo, self.dim)).index_add(
                0, par, f * c_all[child] if child.numel() else f)
            h = torch.sigmoid(o) * torch.tanh(c)
            h_all = torch.cat([h_all, h])
            c_all = torch.cat([c_all, c])
        return h_all


class GRUEmbedder(nn.Module):
    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab, dim)
        self.cell = nn.GRUCell(dim, dim)

    def forward(self, batch: Batch) -> torch.Tensor:
        x_all = self.embed(batch.labels)
        h_all = x_all.new_zeros((0, self.dim))
        for lo, hi in batch.levels:
            x = x_all[lo:hi]
            h = self.cell(x)
            child, par, pos = _edges_of_level(batch, lo, hi)
            if child.numel():
                # the k-th child of every node of the level, k = 0, 1, ... (positions past MAX_POS folded)
                # edges are sorted by parent (children in order): rank = index within the parent's run
                rank = torch.arange(child.numel()) - torch.searchsorted(par, par)
                for k in range(int(rank.max()) + 1):
                    sel = rank == k
                    rows = par[sel]
                    h = h.index_copy(0, rows, self.cell(h_all[child[sel]], h[rows]))
            h_all = torch.cat([h_all, h])
        return h_all


class StateClassifier(nn.Module):
    """Embedder + ``[conclusion; mean hypotheses]`` + MLP -> class logits."""

    def __init__(self, kind: str, vocab: int, dim: int, classes: int) -> None:
        super().__init__()
        self.embedder: nn.Module = TreeLSTMEmbedder(vocab, dim) if kind == "treelstm" else GRUEmbedder(vocab, dim)
        self.head = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, classes))
        self.dim = dim

    def forward(self, batch: Batch) -> torch.Tensor:
        h = self.embedder(batch)
        concl = h[batch.concl]
        hyp_sum = concl.new_zeros((batch.states, self.dim)).index_add(0, batch.hyp_state, h[batch.hyp_rows])
        count = torch.zeros(batch.states).index_add(0, batch.hyp_state, torch.ones(len(batch.hyp_state)))
        hyps = hyp_sum / count.clamp(min=1.0).unsqueeze(-1)
        return self.head(torch.cat([concl, hyps], dim=-1))
