"""Training throughput of the GRU and TreeLSTM embedders with and without embedding sharing.

Same proof states (mathcomp training split, drawn with a fixed seed), same batches of 32, one optimizer
step each (forward, backward, Adam): states/s with sharing (each distinct subterm of a state embedded once)
and without (the trees unfolded, every occurrence embedded), and the number of nodes embedded.  States
are drawn among those whose unfolded trees (all hypotheses and the conclusion) have at most ``--max-nodes``
nodes, so that both modes embed the whole state.  Run:

    .venv/bin/python benchmarks/gamepad_sharing.py [--data data/gamepad/mathcomp] [--batches 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ilya.gamepad.dataset import load_dataset, resolve_data
from ilya.gamepad.models import StateClassifier, Vocab, make_batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default="data/gamepad/mathcomp")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-nodes", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--figure", default=None, help="also draw states/s per mode into this PNG")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    store = load_dataset(resolve_data(args.data))
    memo: dict[int, int] = {}

    def unfolded(i: int) -> int:
        stack = [i]
        while stack:
            j = stack[-1]
            kids = [c for c in store.children[j] if c not in memo]
            if kids:
                stack.extend(kids)
                continue
            stack.pop()
            memo[j] = 1 + sum(memo[c] for c in store.children[j])
        return memo[i]

    tr = [e for e in store.split("train") if sum(unfolded(r) for r in e.roots) <= args.max_nodes]
    vocab = Vocab.build(store, tr[:5000], args.max_nodes)
    rng = np.random.default_rng(0)
    batches = [[tr[i] for i in rng.integers(0, len(tr), args.batch_size)] for _ in range(args.batches)]
    out: dict[str, object] = {"states": args.batches * args.batch_size, "max_nodes": args.max_nodes,
                              "eligible_share": round(len(tr) / max(len(store.split("train")), 1), 3)}
    for kind in ("treelstm", "gru"):
        for share in (True, False):
            torch.manual_seed(0)
            net = StateClassifier(kind, len(vocab), args.dim, 14)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            nodes = 0
            t0 = time.perf_counter()
            for b in batches:
                batch = make_batch(store, b, vocab, args.max_nodes, share)
                nodes += batch.nodes
                loss = torch.nn.functional.cross_entropy(net(batch), torch.tensor([e.tactic for e in b]))
                opt.zero_grad()
                loss.backward()
                opt.step()
            dt = time.perf_counter() - t0
            key = f"{kind}_{'shared' if share else 'unfolded'}"
            out[key] = {"states_per_s": round(len(batches) * args.batch_size / dt, 1), "nodes": nodes,
                        "seconds": round(dt, 2)}
            if not args.json:
                print(f"{key:20s} {len(batches) * args.batch_size / dt:8.1f} states/s  {nodes:9d} nodes embedded",
                      flush=True)
        s = out[f"{kind}_shared"]
        u = out[f"{kind}_unfolded"]
        assert isinstance(s, dict) and isinstance(u, dict)
        out[f"{kind}_speedup"] = round(s["states_per_s"] / u["states_per_s"], 2)
        out[f"{kind}_node_ratio"] = round(u["nodes"] / s["nodes"], 2)
        if not args.json:
            print(f"{kind}: sharing speed-up {out[f'{kind}_speedup']}x, {out[f'{kind}_node_ratio']}x fewer nodes")
    if args.figure:
        from ilya.core.plotting import new_figure, save_figure

        fig, ax = new_figure(figsize=(5.5, 3.5))
        names = ["treelstm", "gru"]
        for k, (mode, colour) in enumerate((("shared", "#1f77b4"), ("unfolded", "#ff7f0e"))):
            vals = [out[f"{n}_{mode}"]["states_per_s"] for n in names]  # type: ignore[index]
            ax.bar([i + 0.38 * k for i in range(len(names))], vals, width=0.36, color=colour,
                   label="embedding sharing" if mode == "shared" else "trees unfolded")
        ax.set_xticks([i + 0.19 for i in range(len(names))], [f"{n} ({out[f'{n}_speedup']}x)" for n in names])
        ax.set_ylabel("training states / s (1 CPU thread)")
        ax.set_title("Embedding sharing: training throughput")
        ax.legend()
        save_figure(fig, args.figure, curves=2)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
