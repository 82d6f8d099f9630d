"""The prover's step of ``ilya demo``: real set.mm data, a short training, proofs found and verified."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ilya.core.data import metamath_database
from ilya.metamath import load
from ilya.prover.config import EvalConfig, ProverOptim, TrainConfig
from ilya.prover.dataset import build_dataset
from ilya.prover.evaluate import run_eval
from ilya.prover.slicing import slice_database
from ilya.prover.train import train


def demo(runs_dir: Path, n_theorems: int = 400, steps: int = 400) -> None:
    """Train a small model on set.mm's first ``n_theorems`` theorems, prove 20 test theorems with it and
    with the frequency baseline, print the longest proofs found (each verified)."""
    t0 = time.time()
    work = Path(runs_dir) / "prover" / "_demo_data"
    db_path = slice_database(metamath_database("set.mm"), work / "setmm_slice.mm", n_theorems=n_theorems)
    db = load(db_path)
    stats = build_dataset(db, work / "dataset", valid=40, test=40)
    print(f"dataset: first {n_theorems} theorems of set.mm (propositional calculus): {stats['theorems']} "
          f"theorems, {stats['proof_steps']} proof steps; split {stats['train_theorems']}/"
          f"{stats['valid_theorems']}/{stats['test_theorems']} ({time.time() - t0:.0f} s)", flush=True)
    # --subst free: the model writes the label and the terms the goal does not determine (docs/prover.md)
    tcfg = TrainConfig(run="demo-train", fresh=True, runs_dir=runs_dir, data=work / "dataset", steps=steps,
                       subst="free", n_layer=2, n_embd=96, n_head=4, block_size=192, vocab_size=512,
                       eval_interval=50, optim=ProverOptim(warmup=20, lr=2e-3))
    out = train(tcfg)
    print(f"trained {out['params']:,}-parameter model (--subst free) for {steps} steps: valid loss "
          f"{out['valid/loss']:.2f} ({time.time() - t0:.0f} s)", flush=True)
    data = work / "dataset"
    base = run_eval(EvalConfig(run="demo-eval-frequency", policy="frequency", runs_dir=runs_dir, fresh=True,
                               data=data, split="test", limit=20, e=8, d=32, time_limit=10.0),
                    {"kind": "frequency", "data": str(data)})
    model_dir = Path(runs_dir) / "prover" / "demo-train" / "model"
    lm = run_eval(EvalConfig(run="demo-eval-model", policy="model", model=str(model_dir), runs_dir=runs_dir,
                             fresh=True, data=data, split="test", limit=20, e=8, d=32, time_limit=10.0),
                  {"kind": "model", "path": str(model_dir.resolve()), "threads": 0})
    print(f"% proved on 20 test theorems (e=8, d=32): frequency baseline {base['proved_pct']}%, "
          f"model {lm['proved_pct']}%")
    for name in ("demo-eval-model", "demo-eval-frequency"):
        p = Path(runs_dir) / "prover" / name / "proofs.jsonl"
        if p.is_file():
            rows = sorted((json.loads(x) for x in p.read_text().splitlines()), key=lambda r: -r["steps"])[:3]
            for r in rows:
                st = db[r["label"]]
                print(f"  [{name.split('-')[-1]}] {r['label']} $p {' '.join(st.expr)} $= "
                      f"{' '.join(r['proof'].split())}  ({r['steps']} steps; set.mm {r['setmm_steps']}; verified)")
    print(f"prover demo done in {time.time() - t0:.0f} s")
