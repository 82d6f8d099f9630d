"""Constrained decoding's label scoring: all goals of a round in one batch (ours) vs one goal at a time.

    .venv/bin/python benchmarks/prover_label_scoring.py --goals 8 --rounds 6 [--model RUN]

Each round takes ``--goals`` goals of set.mm test theorems (the first steps of their proofs), finds the
assertions that match each goal (`ilya.prover.matching`, not timed) and scores every matching label with
the model: with `LMPolicy._score_labels(batched=True)` (ours: every goal's labels cut into rows of
``--chunks`` labels, all goals' rows in padded batches of at most 8,192 tokens), with ``batched=False,
chunk=1024`` (the previous code: one forward pass per goal, in a Python loop), and with a loop over the
same rows as ours, one forward each (``loop_same_chunk``: what batching alone buys).  Prints the times,
the ratios, and the largest score difference (they must agree).  Without ``--model`` the default
shape (4 layers x 128, BPE 1,024 tokens fitted here on 20,000 valid examples) is used with random
weights: the cost does not depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="prover train run or model folder (default: random weights)")
    ap.add_argument("--data", type=Path, default=Path("data/prover/set.mm"))
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"))
    ap.add_argument("--goals", type=int, default=8, help="goals per round (eval's --batch)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2, help="timings per round and method (the best is kept)")
    ap.add_argument("--chunks", type=int, nargs="+", default=[32],
                    help="labels per packed row for ours (the first is the headline; the default is the library's)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from ilya.nn import Transformer, TransformerConfig
    from ilya.prover.dataset import examples, load_database, pick_theorems, read_split, split_labels
    from ilya.prover.matching import matcher
    from ilya.prover.model import LMPolicy, load_model
    from ilya.prover.policies import model_dir
    from ilya.prover.tokenizer import fit_tokenizer

    db = load_database(None, args.data)
    mt = matcher(db)
    if args.model:
        model, tok, _ = load_model(model_dir(args.model, args.runs_dir))
        what = f"model {args.model}"
    else:
        valid = [p + c for _, (p, c) in zip(range(20_000), examples(read_split(args.data, "valid")), strict=False)]
        tok = fit_tokenizer("bpe", valid, 1024)
        torch.manual_seed(0)
        model = Transformer(TransformerConfig(vocab_size=tok.vocab_size, block_size=256, n_layer=4, n_head=4,
                                              n_embd=128))
        what = "default shape, random weights"
    pol = LMPolicy(model, tok, db=db)
    labels = pick_theorems(split_labels(args.data, "test"), args.goals * args.rounds)
    goals = [tuple(db[lab].expr) for lab in labels]
    t_loop = t_loop_same = 0.0
    t_ours = dict.fromkeys(args.chunks, 0.0)
    n_labels = n_tokens_max = 0
    worst = 0.0
    for k in range(0, len(goals), args.goals):
        g, th = goals[k:k + args.goals], labels[k:k + args.goals]
        with torch.no_grad():
            ok, lens, caches, h = pol._prefill(g, th)
            jobs = [(r, m) for r, i in enumerate(ok) for m in mt.matches(g[i], db[th[i]].index)]
        if not jobs:
            continue
        n_labels += len(jobs)
        best = {}
        methods = [("loop", {"batched": False, "chunk": 1024}),
                   ("loop_same_chunk", {"batched": False, "chunk": args.chunks[0]})]
        methods += [(c, {"batched": True, "chunk": c}) for c in args.chunks]
        for name, kw in methods:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                scores = pol._score_labels(caches, lens, h, jobs, **kw)
                times.append(time.perf_counter() - t0)
            best[name] = (min(times), scores)
        t_loop += best["loop"][0]
        t_loop_same += best["loop_same_chunk"][0]
        for c in args.chunks:
            t_ours[c] += best[c][0]
            worst = max(worst, float((best["loop"][1] - best[c][1]).abs().max()))
        n_tokens_max = max(n_tokens_max, max(lens))
    head = t_ours[args.chunks[0]]
    row = {"what": what, "goals_per_round": args.goals, "rounds": args.rounds, "labels_scored": n_labels,
           "chunk": args.chunks[0], "ours_batched_s": round(head, 3), "loop_per_goal_s": round(t_loop, 3),
           "speedup": round(t_loop / max(head, 1e-9), 2),
           "ours_labels_per_s": round(n_labels / max(head, 1e-9), 1),
           "ours_s_by_chunk": {str(c): round(t, 3) for c, t in t_ours.items()},
           "loop_same_chunk_s": round(t_loop_same, 3),
           "speedup_vs_loop_same_chunk": round(t_loop_same / max(head, 1e-9), 2),
           "loop_labels_per_s": round(n_labels / max(t_loop, 1e-9), 1),
           "max_abs_score_difference": worst, "threads": args.threads}
    print(json.dumps(row))
    print(f"\nlabel scoring, {n_labels} labels over {args.rounds} rounds of {args.goals} goals ({what}, "
          f"{args.threads} thread(s)): ours (batched across goals, {args.chunks[0]} labels per row) {head:.2f} s, "
          "one goal at a time "
          f"{t_loop:.2f} s, speed-up {row['speedup']}x; scores agree to {worst:.1e}")


if __name__ == "__main__":
    main()
