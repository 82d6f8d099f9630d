"""FFJORD with and without RNODE (Finlay et al. 2020): test NFE cut and test-NLL cost at a stated budget.

Trains the plain CNF of ``ilya ffjord train`` (the 2D defaults: learnable end time from 0.5) and one or more
RNODE variants (kinetic-energy + Jacobian-Frobenius weights; by default Finlay et al.'s fixed end time
T = 1) on the same batches, Hutchinson noise and initialisation as ``ilya ffjord train --seed S`` would,
for each seed given, one model at a time in this process (one torch thread):

    .venv/bin/python benchmarks/ffjord_rnode.py --data 2spirals --iters 2000 --seeds 0 1 \\
        --rnode 0.01:0.01:1

Each ``--rnode K:J[:T]`` is one RNODE variant: kinetic weight K, Jacobian weight J, end time T fixed
(``T`` omitted or ``train``: the plain model's learnable T from 0.5).  Per model it prints the test NLL
(exact trace, 5000 fresh test points, solver at the training tolerance for every model), the test NFE (mean
function evaluations per 1000-point test batch), the training NFE, wall and CPU seconds per iteration; per
variant the paired (same seed) NFE ratio plain / RNODE and NLL cost RNODE - plain, mean and standard error
over seeds.  Results go to ``benchmarks/results/ffjord_rnode_<data>_<iters>.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from ilya.core.stats import mean_se


@dataclass(frozen=True)
class Variant:
    """One model of the comparison: RNODE weights (0, 0 = the plain CNF) and its end time."""

    kinetic: float = 0.0
    jacobian: float = 0.0
    T: float | None = None  # None: learnable, starting from the default 0.5

    @property
    def name(self) -> str:
        if self.kinetic == 0 and self.jacobian == 0 and self.T is None:
            return "plain"
        t = "T trained" if self.T is None else f"T={self.T:g} fixed"
        return f"rnode k={self.kinetic:g} j={self.jacobian:g} {t}"


def parse_variant(text: str) -> Variant:
    """``K:J[:T]`` -> Variant (``T`` a float, or ``train`` / omitted for the learnable end time)."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: expected K:J or K:J:T, e.g. 0.01:0.01:1")
    try:
        k, j = float(parts[0]), float(parts[1])
        T = None if len(parts) == 2 or parts[2] in ("", "train") else float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: K, J and T must be numbers") from None
    return Variant(k, j, T)


def paired(base: list[dict[str, Any]], reg: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-seed NFE ratio plain / RNODE and NLL cost RNODE - plain, with mean and s.e. over the seeds."""
    by_seed = {b.get("seed", i): b for i, b in enumerate(base)}
    pairs = [(by_seed[r.get("seed", i)], r) for i, r in enumerate(reg) if r.get("seed", i) in by_seed]
    ratios = [b["test_nfe"] / r["test_nfe"] for b, r in pairs]
    costs = [r["test_nll"] - b["test_nll"] for b, r in pairs]
    cpu = [b["cpu_s"] / r["cpu_s"] for b, r in pairs if b.get("cpu_s") and r.get("cpu_s")]
    (rm, rs), (cm, cs) = mean_se(ratios), mean_se(costs)
    return {"seeds": [r.get("seed") for _, r in pairs], "nfe_ratio": ratios, "nll_cost": costs,
            "nfe_ratio_mean": rm, "nfe_ratio_se": rs, "nll_cost_mean": cm, "nll_cost_se": cs,
            "cpu_speedup_mean": float(np.mean(cpu)) if cpu else None,
            "target_met": bool(rm >= 2.0 and cm <= 0.05)}


def train_one(data_name: str, iters: int, seed: int, v: Variant, lr: float = 1e-3, eval_at: tuple[int, ...] = (),
              **overrides: Any) -> dict[str, Any]:
    """One model trained exactly as ``ilya ffjord train`` trains it (same batches, noise, init, optimizer),
    without the run folder, checkpoints and figures; returns its final test figures.  ``overrides`` are
    further `TrainConfig` fields (the tests shrink the model with them)."""
    from ilya.core.progress import progress
    from ilya.core.seeding import seed_everything
    from ilya.ffjord.config import DataName, FfjordOptim, TrainConfig
    from ilya.ffjord.model import (
        batch_loss,
        build_model,
        end_times,
        evaluate,
        load_data,
        resolve,
        train_batch,
    )
    from ilya.ffjord.train import step_seed
    from ilya.nn.training import Trainer

    cfg = resolve(TrainConfig(data=cast(DataName, data_name), iters=iters, seed=seed, kinetic=v.kinetic, jacobian=v.jacobian,
                              T=0.5 if v.T is None else v.T, train_T=v.T is None, optim=FfjordOptim(lr=lr),
                              **overrides))
    data = load_data(cfg)
    seed_everything(seed)  # as Run.open does before the model is built
    model = build_model(cfg, data)
    trainer = Trainer(model, cfg.optim, total_steps=iters)
    nfe_f: list[int] = []
    nfe_b: list[int] = []
    curve: list[dict[str, float]] = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for step in progress(range(iters), desc=f"{data_name} seed {seed} {v.name}"):
        torch.manual_seed(step_seed(seed, step))
        model.reset_nfe()
        loss = batch_loss(model, train_batch(data, cfg, step), data, "cpu").mean()
        regs = model.regularisation()
        total = loss + sum(w * regs[k] for k, w in (("kinetic", v.kinetic), ("jacobian", v.jacobian)) if w > 0)
        nfe_f.append(model.nfe())
        trainer.step(total)
        nfe_b.append(model.nfe_vjp())
        if step + 1 in eval_at and step + 1 < iters:  # the validation set: the test set is scored once
            r = evaluate(model, data, data.valid, "cpu", exact=True, desc="valid")
            curve.append({"step": step + 1, "valid_nll": r["nll"], "valid_nfe": r["nfe"]})
            print(f"    step {step + 1}: valid NLL {r['nll']:.4f}, NFE {r['nfe']:.0f}", flush=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    test = evaluate(model, data, data.test, "cpu", exact=True, desc="test")
    tail = max(iters // 10, 1)
    return {"seed": seed, "test_nll": test["nll"], "test_nfe": test["nfe"],
            "train_nfe_forward": float(np.mean(nfe_f[-tail:])), "train_nfe_backward": float(np.mean(nfe_b[-tail:])),
            "wall_s": wall, "cpu_s": cpu, "s_per_iter": wall / iters, "cpu_s_per_iter": cpu / iters,
            "end_times": end_times(model), "curve": curve}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", default="2spirals", help="a 2D toy set of ilya.ffjord (8gaussians, pinwheel, ...)")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1],
                    help="seeds to train (none: only pool the --merge files)")
    ap.add_argument("--rnode", type=parse_variant, nargs="+", default=[Variant(0.01, 0.01, 1.0)],
                    help="RNODE variants K:J[:T] (kinetic weight, Jacobian weight, fixed end time)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain model (only RNODE variants)")
    ap.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (the default of ilya ffjord train)")
    ap.add_argument("--eval-at", type=int, nargs="*", default=[], help="also score the validation set here")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--merge", nargs="*", default=[], help="result JSONs of the same comparison to pool with")
    args = ap.parse_args()
    torch.set_num_threads(1)
    variants: list[Variant] = ([] if args.no_plain else [Variant()]) + list(args.rnode)
    results: dict[str, Any] = {"config": {**{k: v for k, v in vars(args).items() if k not in ("rnode", "out")},
                                          "variants": [asdict(v) | {"name": v.name} for v in variants]},
                               "load_before": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                     time.gmtime()),
                               "runs": {}, "paired": {}}
    out = args.out or Path(f"benchmarks/results/ffjord_rnode_{args.data}_{args.iters}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in args.merge:  # earlier runs of the same comparison (other seeds): pooled before the table
        old = json.loads(Path(path).read_text())
        if (old["config"]["data"], old["config"]["iters"], old["config"]["lr"]) != (args.data, args.iters, args.lr):
            raise SystemExit(f"--merge {path}: another data set, budget or learning rate")
        for name, runs in old["runs"].items():
            results["runs"].setdefault(name, []).extend(runs)
        results.setdefault("merged", []).append(str(path))
    for seed in args.seeds:
        for v in variants:
            print(f"{args.data} {args.iters} it., seed {seed}: {v.name}", flush=True)
            r = train_one(args.data, args.iters, seed, v, args.lr, tuple(args.eval_at))
            results["runs"].setdefault(v.name, []).append(r)
            out.write_text(json.dumps(results, indent=2) + "\n")  # kept after every model
            print(f"  test NLL {r['test_nll']:.4f}  test NFE {r['test_nfe']:.1f}  train NFE "
                  f"{r['train_nfe_forward']:.0f}+{r['train_nfe_backward']:.0f}  {r['s_per_iter']:.3f} s/it wall, "
                  f"{r['cpu_s_per_iter']:.3f} CPU s/it  T {[round(t, 3) for t in r['end_times']]}", flush=True)
    results["load_after"] = os.getloadavg()
    seeds = sorted({r["seed"] for runs in results["runs"].values() for r in runs})
    print(f"\n{args.data}, {args.iters} iterations, seeds {seeds} (mean ± s.e. over seeds)")
    print(f"{'model':34s} {'test NLL':>16s} {'test NFE':>12s} {'CPU s/it':>9s} {'NFE ratio':>14s} {'NLL cost':>16s}")
    base = results["runs"].get("plain")
    for name in sorted(results["runs"], key=lambda n: n != "plain"):  # plain first
        runs = results["runs"][name]
        (nm, ns), (fm, fs) = mean_se([r["test_nll"] for r in runs]), mean_se([r["test_nfe"] for r in runs])
        cpus = [r["cpu_s_per_iter"] for r in runs if r.get("cpu_s_per_iter")]
        cpu = f"{np.mean(cpus):9.3f}" if cpus else f"{'-':>9s}"
        line = f"{name:34s} {nm:8.4f} ± {ns:.4f} {fm:6.1f} ± {fs:3.0f} {cpu}"
        if base is not None and name != "plain":
            p = paired(base, runs)
            results["paired"][name] = p
            line += (f" {p['nfe_ratio_mean']:6.2f}x ± {p['nfe_ratio_se']:.2f} {p['nll_cost_mean']:+8.4f} ± "
                     f"{p['nll_cost_se']:.4f}  target (>= 2x, <= 0.05 nats) {'met' if p['target_met'] else 'not met'}")
        print(line)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
