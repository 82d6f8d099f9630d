"""Expert iteration with a learned value (paper §4): search, learn from the outcomes, retrain, repeat.

Each iteration: (1) the current model searches a set of train theorems (iteration 0 ranks goals by
cumulative log-probability, later ones by the value it has learned); (2) the proofs it finds become new
proof-step examples and every goal it expanded becomes a value target (PROVABLE if it lies on a found
proof, UNPROVABLE if it was expanded and never proved); (3) the model is fine-tuned on the dataset plus
these examples, and (4) evaluated on a fixed test subset.  ``iterations.jsonl`` and ``plots/iterations.png``
hold the per-iteration figures.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.prover.config import IterateConfig, ProverOptim, TrainConfig
from ilya.prover.dataset import essential_hyps, load_database, pick_theorems, split_labels
from ilya.prover.evaluate import prove
from ilya.prover.format import goal_text
from ilya.prover.policies import make_policy, model_dir
from ilya.prover.search import SearchConfig
from ilya.prover.train import train


def _proof_steps(tree: dict[str, Any]) -> list[dict[str, str]]:
    out, stack = [], [tree]
    while stack:
        t = stack.pop()
        if "step" in t:
            out.append({"goal": t["goal"], "step": t["step"]})
            stack.extend(t.get("children", []))
    return out


def iterate(cfg: IterateConfig) -> dict[str, Any]:
    if not cfg.model:
        raise IlyaError("--model is required: a `ilya prover train` run to start from")
    db = load_database(cfg.db, cfg.data)
    train_labels = pick_theorems(split_labels(cfg.data, "train"), cfg.train_theorems)
    test_labels = pick_theorems(split_labels(cfg.data, "test"), cfg.test_theorems)
    mdir = model_dir(cfg.model, cfg.runs_dir).resolve()
    with Run.open("prover", cfg) as run:
        hist_path = run.path / "iterations.jsonl"
        history = [json.loads(x) for x in hist_path.read_text().splitlines()] if hist_path.is_file() else []
        if history:
            mdir = Path(history[-1]["model"])
        value_path, steps_path = run.path / "value_targets.jsonl", run.path / "found_steps.jsonl"
        for it in range(len(history), cfg.iterations + 1):
            spec = {"kind": "model", "path": str(mdir), "threads": 0, "seed": cfg.seed + it}
            policy = make_policy(spec, db)
            priority = "value" if it > 0 else "logprob"
            scfg = SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, priority=priority)
            row: dict[str, Any] = {"iteration": it, "model": str(mdir), "priority": priority}
            for prio in (("logprob", "value") if it > 0 else ("logprob",)):
                tcfg_s = SearchConfig(e=cfg.e, d=cfg.d, time_limit=cfg.time_limit, priority=prio)
                test_rows = prove(db, policy, test_labels, tcfg_s, cfg.batch)
                row[f"test_proved_pct_{prio}"] = 100.0 * sum(r["proved"] for r in test_rows) / len(test_rows)
                row[f"test_expansions_{prio}"] = sum(r["expansions"] for r in test_rows)
            row["test_proved_pct"] = row[f"test_proved_pct_{priority}"]
            if it < cfg.iterations:
                train_rows = prove(db, policy, train_labels, scfg, cfg.batch)
                targets = [(g, y) for r in train_rows for g, y in r["value_targets"]]
                pos = [t for t in targets if t[1] == 1]
                neg = [t for t in targets if t[1] == 0]
                if cfg.balance and len(neg) > len(pos):
                    neg = random.Random(cfg.seed + it).sample(neg, max(len(pos), 1))
                n_pos, n_neg, n_steps = len(pos), len(neg), 0
                with open(value_path, "a") as fv, open(steps_path, "a") as fs:
                    for goal, y in pos + neg:
                        fv.write(json.dumps({"goal": goal, "provable": y}) + "\n")
                    for r in train_rows:
                        if r["proved"]:
                            hyps = [goal_text(h) for h in essential_hyps(db, r["label"])]
                            for s in _proof_steps(r["tree"]):
                                fs.write(json.dumps({**s, "hyps": hyps}) + "\n")
                                n_steps += 1
                row.update(train_proved_pct=100.0 * sum(r["proved"] for r in train_rows) / len(train_rows),
                           value_provable=n_pos, value_unprovable=n_neg, new_steps=n_steps)
                meta = json.loads((mdir / "model.json").read_text())
                name = f"{run.name}-it{it + 1}"
                tcfg = TrainConfig(run=name, fresh=True, seed=cfg.seed + it,
                                   subst=meta.get("subst", "full"), tokenizer=meta.get("tokenizer", "bpe"),
                                   device=cfg.device, runs_dir=cfg.runs_dir, data=cfg.data,
                                   steps=cfg.steps, optim=ProverOptim(lr=3e-4, warmup=min(20, cfg.steps // 5)),
                                   max_examples=cfg.max_examples, value_data=value_path,
                                   value_fraction=cfg.value_fraction, init=mdir,
                                   extra_data=steps_path if n_steps or steps_path.is_file() else None,
                                   eval_interval=max(cfg.steps, 1))
                out = train(tcfg)
                row["valid_loss"] = out["valid/loss"]
                mdir = (Path(cfg.runs_dir) / "prover" / name / "model").resolve()
            history.append(row)
            with open(hist_path, "a") as f:
                f.write(json.dumps(row) + "\n")
            run.log(it, **{k: v for k, v in row.items() if isinstance(v, (int, float))})
            print(f"prover iterate {it}: test {row['test_proved_pct_logprob']:.1f}% (logprob priority)"
                  + (f", {row['test_proved_pct_value']:.1f}% (value priority)" if it > 0 else "")
                  + (f", train {row['train_proved_pct']:.1f}%, {row['new_steps']} new steps, "
                     f"{row['value_provable']}+{row['value_unprovable']} value targets" if "train_proved_pct" in row
                     else ""), flush=True)
        summary = run.summary(**final_figures(cfg, history, mdir))
        draw_run(run)  # % proved per iteration: ilya.prover.plots
        return summary


def final_figures(cfg: IterateConfig, history: list[dict[str, Any]], mdir: Path) -> dict[str, Any]:
    """The figures of the whole loop (summary.json)."""
    return {"iterations": cfg.iterations, "final_test_proved_pct": history[-1]["test_proved_pct"],
            "first_test_proved_pct": history[0]["test_proved_pct"],
            "final_test_proved_pct_logprob": history[-1]["test_proved_pct_logprob"],
            "final_model": str(mdir)}
