"""FFJORD with and without RNODE (Finlay et al. 2020): test NFE cut and test-NLL cost at a stated budget.

Trains, through ``ilya.ffjord.train.train`` itself (one run folder per model under ``--runs-dir``, named
``rnode-<data>-<iters>-s<seed>-<variant>[-lr<lr>]``), the plain CNF of ``ilya ffjord train`` (the 2D defaults:
learnable end time from 0.5) and one or more RNODE variants (kinetic-energy + Jacobian-Frobenius weights),
for each seed given, one model at a time in this process (one torch thread):

    .venv/bin/python benchmarks/ffjord_rnode.py --data 2spirals --iters 2000 --seeds 0 1 \\
        --rnode 0.01:0.01 0.01:0.01:train:linear/0.5/0

Each ``--rnode K:J[:T[:SCHEDULE]]`` is one RNODE variant: kinetic weight K, Jacobian weight J, end time T
fixed (``T`` omitted or ``train``: the plain model's learnable T from 0.5), and a weight schedule
``linear/START/FINAL`` or ``cosine/START/FINAL`` (``--reg-schedule``: the weights are kept until the fraction
START of training, then decay to FINAL times themselves; omitted: constant).  A run folder that already holds
the finished model is re-scored, not retrained (``--fresh`` retrains).  Per model it prints what ``train``
returns: the test NLL (exact trace, 5000 fresh test points, solver at the training tolerance for every model),
the test NFE (mean function evaluations per 1000-point test batch), the training NFE, wall and CPU seconds per
training iteration; with ``--check-atol A`` also the test NLL and NFE of the first ``--check-n`` test points
at the training tolerance and at ``A`` (is the NLL difference solver error?); per variant the paired (same
seed) NFE ratio plain / RNODE and NLL cost RNODE - plain, mean and standard error over seeds.  Results go to
``benchmarks/results/ffjord_rnode_<data>_<iters>.json`` (``--out`` to change).
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

from ilya.core.runs import Run
from ilya.core.stats import mean_se
from ilya.ffjord.config import DataName, FfjordOptim, RegSchedule, TrainConfig
from ilya.ffjord.model import evaluate, load_run_model
from ilya.ffjord.train import train

TRAIN_LR = FfjordOptim().lr  # ilya ffjord train's learning rate: run names carry any other


@dataclass(frozen=True)
class Variant:
    """One model of the comparison: RNODE weights (0, 0 = the plain CNF), its end time and weight schedule."""

    kinetic: float = 0.0
    jacobian: float = 0.0
    T: float | None = None  # None: learnable, starting from the default 0.5
    schedule: RegSchedule = "constant"
    decay_start: float = 0.5
    final: float = 0.0

    @property
    def name(self) -> str:
        if self.kinetic == 0 and self.jacobian == 0 and self.T is None:
            return "plain"
        t = "T trained" if self.T is None else f"T={self.T:g} fixed"
        sched = "" if self.schedule == "constant" else f" {self.schedule} {self.decay_start:g}->{self.final:g}"
        return f"rnode k={self.kinetic:g} j={self.jacobian:g} {t}{sched}"

    @property
    def slug(self) -> str:
        """The variant in a run name (letters, digits, '.', '_', '-')."""
        if self.name == "plain":
            return "plain"
        t = "Ttrain" if self.T is None else f"T{self.T:g}"
        sched = "" if self.schedule == "constant" else f"-{self.schedule}{self.decay_start:g}to{self.final:g}"
        return f"k{self.kinetic:g}-j{self.jacobian:g}-{t}{sched}"

    def config(self, data: str, iters: int, seed: int, lr: float = TRAIN_LR, **fields: Any) -> TrainConfig:
        """The `TrainConfig` of ``ilya ffjord train`` for this variant; ``fields`` are further fields."""
        return TrainConfig(data=cast(DataName, data), iters=iters, seed=seed, kinetic=self.kinetic,
                           jacobian=self.jacobian, T=0.5 if self.T is None else self.T, train_T=self.T is None,
                           reg_schedule=self.schedule, reg_decay_start=self.decay_start, reg_final=self.final,
                           optim=FfjordOptim(lr=lr), device="cpu", **fields)


def parse_variant(text: str) -> Variant:
    """``K:J[:T[:SCHEDULE]]`` -> Variant (``T`` a float, or ``train`` / omitted for the learnable end time;
    ``SCHEDULE`` ``linear/START/FINAL`` or ``cosine/START/FINAL``)."""
    parts = text.split(":")
    if len(parts) not in (2, 3, 4):
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: expected K:J, K:J:T or K:J:T:SCHEDULE, e.g. 0.01:0.01:1")
    try:
        k, j = float(parts[0]), float(parts[1])
        T = None if len(parts) == 2 or parts[2] in ("", "train") else float(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: K, J and T must be numbers") from None
    if len(parts) < 4:
        return Variant(k, j, T)
    sched = parts[3].split("/")
    if len(sched) != 3 or sched[0] not in ("linear", "cosine"):
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: SCHEDULE is linear/START/FINAL or cosine/START/FINAL")
    try:
        start, final = float(sched[1]), float(sched[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--rnode {text!r}: START and FINAL must be numbers") from None
    return Variant(k, j, T, cast(RegSchedule, sched[0]), start, final)


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


def train_one(data_name: str, iters: int, seed: int, v: Variant, runs_dir: Path, lr: float = TRAIN_LR,
              eval_every: int = 250, fresh: bool = False, check_atol: float | None = None, check_n: int = 2000,
              **fields: Any) -> dict[str, Any]:
    """One model trained by ``ilya.ffjord.train.train`` in the run ``rnode-<data>-<iters>-s<seed>-<variant>``
    (``-lr<lr>`` appended for a learning rate other than train's, 1e-3) of ``runs_dir``; its final figures,
    the validation curve of its metrics and, with ``check_atol``, its test NLL / NFE on ``check_n`` test
    points at the training tolerance and at ``check_atol``.  ``fields`` are further `TrainConfig` fields
    (the tests shrink the model with them)."""
    name = f"rnode-{data_name}-{iters}-s{seed}-{v.slug}" + ("" if lr == TRAIN_LR else f"-lr{lr:g}")
    final = train(v.config(data_name, iters, seed, lr, eval_every=eval_every, runs_dir=runs_dir, run=name,
                           fresh=fresh, **fields))
    run = Run.load(f"ffjord/{name}", runs_dir)
    steps, nll = run.series("valid/nll")
    _, nfe = run.series("valid/nfe")
    out: dict[str, Any] = {"seed": seed, "run": str(run.path), **{k: final[k] for k in (
        "test_nll", "test_nfe", "train_nfe_forward", "train_nfe_backward", "s_per_iter", "cpu_s_per_iter",
        "end_times")}, "cpu_s": final["cpu_s_per_iter"] * iters, "wall_s": final["s_per_iter"] * iters,
        "curve": [{"step": int(s), "valid_nll": float(a), "valid_nfe": float(b)}
                  for s, a, b in zip(steps, nll, nfe, strict=True)]}
    if check_atol is not None:
        model, cfg, data = load_run_model(run)
        x = data.test[:check_n]
        at_train = evaluate(model, data, x, "cpu", exact=True, desc="check (training tol.)")
        tight = evaluate(model, data, x, "cpu", exact=True, atol=check_atol, desc=f"check (atol {check_atol:g})")
        out["check"] = {"n": len(x), "atol": check_atol, "train_atol": cfg.atol, "nll_train_tol": at_train["nll"],
                        "nfe_train_tol": at_train["nfe"], "nll_tight": tight["nll"], "nfe_tight": tight["nfe"]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", default="2spirals", help="a 2D toy set of ilya.ffjord (8gaussians, pinwheel, ...)")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1],
                    help="seeds to train (none: only pool the --merge files)")
    ap.add_argument("--rnode", type=parse_variant, nargs="+", default=[Variant(0.01, 0.01, 1.0)],
                    help="RNODE variants K:J[:T[:SCHEDULE]] (kinetic weight, Jacobian weight, fixed end time, "
                         "weight schedule linear/START/FINAL or cosine/START/FINAL)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain model (only RNODE variants)")
    ap.add_argument("--lr", type=float, default=TRAIN_LR, help="Adam learning rate (the default of ilya ffjord train)")
    ap.add_argument("--eval-every", type=int, default=250,
                    help="validation (Hutchinson trace) and checkpoint interval of each run (train's --eval-every)")
    ap.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where the runs/ffjord/rnode-* folders go")
    ap.add_argument("--fresh", action="store_true", help="retrain runs that already exist")
    ap.add_argument("--check-atol", type=float, default=None,
                    help="also score --check-n test points at this tighter solver tolerance")
    ap.add_argument("--check-n", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--merge", nargs="*", default=[], help="result JSONs of the same comparison to pool with")
    args = ap.parse_args()
    torch.set_num_threads(1)
    variants: list[Variant] = ([] if args.no_plain else [Variant()]) + list(args.rnode)
    results: dict[str, Any] = {"config": {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                                             if k not in ("rnode", "out")},
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
            r = train_one(args.data, args.iters, seed, v, args.runs_dir, args.lr, args.eval_every, args.fresh,
                          args.check_atol, args.check_n)
            results["runs"].setdefault(v.name, []).append(r)
            out.write_text(json.dumps(results, indent=2) + "\n")  # kept after every model
            print(f"  test NLL {r['test_nll']:.4f}  test NFE {r['test_nfe']:.1f}  train NFE "
                  f"{r['train_nfe_forward']:.0f}+{r['train_nfe_backward']:.0f}  {r['s_per_iter']:.3f} s/it wall, "
                  f"{r['cpu_s_per_iter']:.3f} CPU s/it  T {[round(t, 3) for t in r['end_times']]}", flush=True)
            if "check" in r:
                c = r["check"]
                print(f"  first {c['n']} test points: NLL {c['nll_train_tol']:.4f} (NFE {c['nfe_train_tol']:.0f}) at "
                      f"atol {c['train_atol']:g}, {c['nll_tight']:.4f} (NFE {c['nfe_tight']:.0f}) at {c['atol']:g}",
                      flush=True)
    results["load_after"] = os.getloadavg()
    seeds = sorted({r["seed"] for runs in results["runs"].values() for r in runs})
    print(f"\n{args.data}, {args.iters} iterations, seeds {seeds} (mean ± s.e. over seeds)")
    w = max([34, *(len(n) for n in results["runs"])])
    print(f"{'model':{w}s} {'test NLL':>16s} {'test NFE':>12s} {'CPU s/it':>9s} {'NFE ratio':>14s} {'NLL cost':>16s}")
    base = results["runs"].get("plain")
    for name in sorted(results["runs"], key=lambda n: n != "plain"):  # plain first
        runs = results["runs"][name]
        (nm, ns), (fm, fs) = mean_se([r["test_nll"] for r in runs]), mean_se([r["test_nfe"] for r in runs])
        cpus = [r["cpu_s_per_iter"] for r in runs if r.get("cpu_s_per_iter")]
        cpu = f"{np.mean(cpus):9.3f}" if cpus else f"{'-':>9s}"
        line = f"{name:{w}s} {nm:8.4f} ± {ns:.4f} {fm:6.1f} ± {fs:3.0f} {cpu}"
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
