"""Behaviour cloning and DAgger for the one-shot policy.

A training example is a triple from one training task: a demonstration (through temporal dropout), and a
state with the expert's action in it, taken from *another* demonstration of the same task (BC) or, for
DAgger, also from the states the policy itself visited, labelled by the scripted expert.  DAgger starts
after ``dagger_start`` of the steps of BC; each round rolls out the policy on every training task
(executing the expert's action with probability beta, halved every round), asks the expert in every
visited state and adds those pairs to the task's pool.  Adamax, as in the paper.  Ours: the loss adds
``aux_weight`` x the auxiliary cross-entropy of the attention heads over blocks against the current stage's
blocks (labels from `ilya.imitation.labels`, for demonstration and DAgger states alike).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ilya.core.device import resolve_device
from ilya.core.errors import IlyaError
from ilya.core.figures import draw_run
from ilya.core.runs import Run
from ilya.imitation.config import CollectConfig, TrainConfig
from ilya.imitation.dataset import Dataset, collect, default_dir, load_dataset, manifest_of
from ilya.imitation.evaluate import evaluate_policy, expert_rates, state_numpy
from ilya.imitation.labels import stage_labels
from ilya.imitation.policy import MAX_LABELS, OneShotPolicy, aux_loss, bc_loss, dropout_indices, pack_demos
from ilya.imitation.rollout import condition, rollouts
from ilya.imitation.tasks import task_set_from_config
from ilya.nn.training import Trainer


def ensure_dataset(cfg: TrainConfig) -> Dataset:
    """The dataset of ``cfg`` (collected here, or finished, when it is not there yet)."""
    ts = task_set_from_config(cfg)
    expected = manifest_of(ts, cfg.physics, cfg.demos_per_task, cfg.test_demos_per_task, 0)
    if cfg.dataset is not None:  # a given dataset is read, never collected into
        return load_dataset(Path(cfg.dataset), expected)
    path = default_dir(cfg, cfg.runs_dir)
    ccfg = CollectConfig(max_blocks=cfg.max_blocks, max_stages=cfg.max_stages, train_tasks=cfg.train_tasks,
                         test_tasks=cfg.test_tasks, task_seed=cfg.task_seed, physics=cfg.physics, out=path,
                         demos_per_task=cfg.demos_per_task, test_demos_per_task=cfg.test_demos_per_task,
                         seed=0, runs_dir=cfg.runs_dir, workers=cfg.workers, address=cfg.address)
    collect(ccfg)
    return load_dataset(path, expected)


class Pools:
    """Per training task: its demonstrations, and the pool of (state, expert action) pairs to clone."""

    def __init__(self, data: Dataset, keep_final: bool = False, split: str = "train") -> None:
        """``split``: the tasks whose demonstrations are drawn (test: held-out examples, never trained on)."""
        self.demos = data.train if split == "train" else data.test
        self.tasks = data.tasks(split)
        self.keep_final = keep_final
        self.obs: list[np.ndarray] = []
        self.act: list[np.ndarray] = []
        self._src: list[np.ndarray] = []
        for d in self.demos:
            o = [d["obs"][i, : n] for i, n in enumerate(d["lengths"])]
            a = [d["actions"][i, : n] for i, n in enumerate(d["lengths"])]
            src = np.concatenate([np.full(n, i) for i, n in enumerate(d["lengths"])])
            self.obs.append(np.concatenate(o))
            self.act.append(np.concatenate(a))
            self._src.append(src)
        self.n_demo_pairs = [len(o) for o in self.obs]
        self.extra_obs: list[list[np.ndarray]] = [[] for _ in self.demos]
        self.extra_act: list[list[np.ndarray]] = [[] for _ in self.demos]
        self._pools: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}   # concatenated, until an add

    def add(self, task: int, obs: np.ndarray, act: np.ndarray) -> None:
        self.extra_obs[task].append(obs)
        self.extra_act[task].append(act)
        self._pools.pop(task, None)

    def pool(self, task: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(obs, actions, source demonstration or -1) of everything a task's examples are drawn from (kept
        concatenated between DAgger rounds: with large pools the copy per batch cost a fifth of a step)."""
        if not self.extra_obs[task]:
            return self.obs[task], self.act[task], self._src[task]
        if task not in self._pools:
            eo, ea = np.concatenate(self.extra_obs[task]), np.concatenate(self.extra_act[task])
            self._pools[task] = (np.concatenate([self.obs[task], eo]), np.concatenate([self.act[task], ea]),
                                 np.concatenate([self._src[task], np.full(len(eo), -1)]))
        return self._pools[task]

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for t in range(len(self.demos)):
            if self.extra_obs[t]:
                out[f"obs{t}"] = np.concatenate(self.extra_obs[t])
                out[f"act{t}"] = np.concatenate(self.extra_act[t])
        return out

    def load(self, state: dict[str, Any]) -> None:
        for t in range(len(self.demos)):
            if f"obs{t}" in state:
                self.extra_obs[t] = [np.asarray(state[f"obs{t}"], np.float32)]
                self.extra_act[t] = [np.asarray(state[f"act{t}"], np.float32)]
                self._pools.pop(t, None)

    @property
    def extra_pairs(self) -> int:
        return sum(len(o) for e in self.extra_obs for o in e)

    def batch(self, rng: np.random.Generator, size: int, p: float, conditioning: str
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        demo, mask, x, y, _ = self.labelled_batch(rng, size, p, conditioning)
        return demo, mask, x, y

    def labelled_batch(self, rng: np.random.Generator, size: int, p: float, conditioning: str,
                       test_time: bool = False
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(demonstrations, mask, states, expert actions, stage labels (size, 2): block to move, block it goes on).

        ``test_time``: demonstrations subsampled as at test time (every 20th step back from the end)."""
        demos, xs, ys, tasks = [], [], [], []
        pools = {}
        for _ in range(size):
            t = int(rng.integers(len(self.demos)))
            if t not in pools:
                pools[t] = self.pool(t)
            o, a, src = pools[t]
            j = int(rng.integers(len(o)))
            d = self.demos[t]
            n = len(d["lengths"])
            i = int(rng.integers(n))
            if n > 1 and i == src[j]:
                i = (i + 1 + int(rng.integers(n - 1))) % n          # condition on another demonstration
            length = int(d["lengths"][i])
            if conditioning == "final":
                demos.append(d["obs"][i, length: length + 1])
            else:
                demos.append(d["obs"][i, dropout_indices(length, p, None if test_time else rng, self.keep_final)])
            xs.append(o[j])
            ys.append(a[j])
            tasks.append(t)
        demo_t, mask = pack_demos(demos)
        x = np.stack(xs)
        labels = np.zeros((size, 2), np.int64)
        tk = np.asarray(tasks)
        for t in np.unique(tk):
            sel = tk == t
            labels[sel] = stage_labels(x[sel], self.tasks[int(t)])
        return demo_t, mask, torch.from_numpy(x), torch.from_numpy(np.stack(ys)), torch.from_numpy(labels)


@torch.no_grad()
def heldout_metrics(model: OneShotPolicy, held: Pools, cfg: TrainConfig, device: torch.device) -> dict[str, float]:
    """Move error, grip accuracy and how often heads 0/1 attend to the right blocks, on 256 states of the test
    tasks' demonstrations (always the same ones), conditioned on another demonstration of the same task."""
    was = model.training
    model.eval()
    demo, mask, x, y, lab = held.labelled_batch(np.random.default_rng(123), 256, cfg.model.temporal_dropout,
                                                cfg.conditioning, test_time=True)
    out, logits = model.outputs(demo.to(device), mask.to(device), x.to(device))
    _, aparts = aux_loss(logits.float(), lab.to(device))
    y = y.to(device)
    model.train(was)
    return {"heldout/move_l1": float((torch.tanh(out[:, :3]) - y[:, :3]).abs().mean()),
            "heldout/grip_acc": float(((out[:, 3] > 0) == (y[:, 3] > 0)).float().mean()),
            **{f"heldout/{k}": v for k, v in aparts.items()}}


def dagger_round_starts(cfg: TrainConfig) -> list[int]:
    if cfg.algo != "dagger" or cfg.dagger_rounds <= 0:
        return []
    first = int(cfg.steps * cfg.dagger_start)
    gap = (cfg.steps - first) / cfg.dagger_rounds
    return [first + int(r * gap) for r in range(cfg.dagger_rounds)]


def dagger_collect(model: OneShotPolicy, cfg: TrainConfig, data: Dataset, pools: Pools, round_: int,
                   ) -> dict[str, float]:
    """Roll out the policy on every training task, label the visited states with the expert, aggregate."""
    beta = cfg.dagger_beta * 0.5 ** round_
    layouts, seeds, demos, owner = [], [], [], []
    for i, (task, shard) in enumerate(zip(data.tasks("train"), data.train, strict=True)):
        n = len(shard["lengths"])
        for k in range(cfg.dagger_episodes):
            layouts.append(task.layout)
            seeds.append(800_000_000 + cfg.seed * 1_000_000 + round_ * 10_000 + i * 100 + k)
            j = (k + round_ * cfg.dagger_episodes) % n
            demos.append([condition(shard["obs"][j], int(shard["lengths"][j]), cfg.conditioning,
                                    cfg.model.temporal_dropout)])
            owner.append(i)
    res = rollouts(state_numpy(model), dataclasses.asdict(cfg.model), data.max_blocks, cfg.physics, layouts, seeds,
                   demos, beta=beta, label=True, rng_seed=cfg.seed * 1000 + round_, workers=cfg.workers,
                   address=cfg.address, desc=f"dagger {round_ + 1}")
    task_of = np.asarray(owner)[res["episode"]]
    for i in range(len(data.train)):
        sel = task_of == i
        if sel.any():
            pools.add(i, res["obs"][sel], res["actions"][sel])
    succ = res["success"]
    return {"dagger/beta": beta, "dagger/rollout_success": float(succ.mean()),
            "dagger/new_pairs": float(len(res["obs"])), "dagger/pairs": float(pools.extra_pairs)}


VALIDATION_SEED_BASE = 700_000_000
"""initial states of the validation episodes (training tasks; never a demonstration's, DAgger's or an evaluation's)"""


def validate(model: OneShotPolicy, cfg: TrainConfig, data: Dataset) -> dict[str, float]:
    """Ours: the policy alone (no expert actions) on every training task, ``select_episodes`` episodes each,
    from the same fresh initial states at every check (paired comparisons); success and stages done."""
    layouts, seeds, demos = [], [], []
    for i, (task, shard) in enumerate(zip(data.tasks("train"), data.train, strict=True)):
        n = len(shard["lengths"])
        for k in range(cfg.select_episodes):
            layouts.append(task.layout)
            seeds.append(VALIDATION_SEED_BASE + i * 100 + k)
            j = k % n
            demos.append([condition(shard["obs"][j], int(shard["lengths"][j]), cfg.conditioning,
                                    cfg.model.temporal_dropout)])
    res = rollouts(state_numpy(model), dataclasses.asdict(cfg.model), data.max_blocks, cfg.physics, layouts, seeds,
                   demos, workers=cfg.workers, address=cfg.address, desc="validate")
    n_st = np.asarray([t.n_stages for t in data.tasks("train") for _ in range(cfg.select_episodes)])
    return {"select/success": float(res["success"].mean()),
            "select/stages": float((res["stages"] / np.maximum(n_st, 1)).mean())}


def select_due(cfg: TrainConfig, step: int) -> bool:
    """A validation check after 0-based ``step`` (from the first DAgger round, or half-way for BC, and at the end)."""
    if cfg.select_every <= 0:
        return False
    first = int(cfg.steps * (cfg.dagger_start if cfg.algo == "dagger" else 0.5))
    return step + 1 >= first and ((step + 1) % cfg.select_every == 0 or step + 1 == cfg.steps)


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, evaluate by stages on training and test tasks, draw the run's figures."""
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    with Run.open("imitation", cfg) as run:
        data = ensure_dataset(cfg)
        pools = Pools(data, cfg.model.keep_final)
        held = Pools(data, cfg.model.keep_final, split="test")
        if cfg.model.block_readout and data.max_blocks > cfg.model.max_blocks:
            raise IlyaError(f"{data.max_blocks} blocks per scene > --model.max-blocks {cfg.model.max_blocks}: "
                            f"pass --model.max-blocks {data.max_blocks}")
        model = OneShotPolicy(cfg.model).to(device)
        trainer = Trainer(model, cfg.optim, total_steps=cfg.steps, device=device)
        start = trainer.resume(run)
        if trainer.extra.get("pools"):
            pools.load(trainer.extra["pools"])
        rounds = dagger_round_starts(cfg)
        done_rounds = int(trainer.extra.get("rounds", 0))
        best: dict[str, Any] = dict(trainer.extra.get("best") or {})
        averaged = OneShotPolicy(cfg.model).to(device)   # ours: the weights' moving average (--ema)
        averaged.load_state_dict(model.state_dict())
        if trainer.extra.get("ema"):
            averaged.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in trainer.extra["ema"].items()})
        averaged.eval()
        acting = averaged if cfg.ema > 0 else model       # the policy DAgger and the validation roll out
        # parameters() and buffers() list a shared tensor (the block encoder) once; state_dict() twice.
        # load_state_dict copies in place, so these tensors stay the model's for the whole run.
        ema_pairs = [*zip(averaged.parameters(), model.parameters(), strict=True),
                     *zip(averaged.buffers(), model.buffers(), strict=True)]

        def extras() -> dict[str, Any]:
            ema = {k: v.copy() for k, v in state_numpy(averaged).items()} if cfg.ema > 0 else {}
            return {"pools": pools.state(), "rounds": done_rounds, "dataset": str(data.path), "best": best, "ema": ema}

        p = cfg.model.temporal_dropout
        for step in trainer.steps(run, start, cfg.steps, desc=f"train {cfg.algo}"):
            if done_rounds < len(rounds) and step >= rounds[done_rounds]:
                trainer.save(run, step, **extras())
                model.eval()
                stats = dagger_collect(acting, cfg, data, pools, done_rounds)
                model.train()
                done_rounds += 1
                run.log(step, **stats, **{"dagger/round": done_rounds})
            rng = np.random.default_rng([cfg.seed, step])
            demo, mask, x, y, lab = pools.labelled_batch(rng, cfg.batch, p, cfg.conditioning)
            force = None
            if cfg.aux_force > 0:
                force = torch.where(torch.from_numpy(rng.random(len(lab)) < cfg.aux_force)[:, None], lab, -1)
                force = force[:, : cfg.model.heads].to(device)
            tags = None
            if cfg.model.random_tags:
                tags = torch.from_numpy(np.argsort(rng.random((len(x), MAX_LABELS)), axis=1)[:, : data.max_blocks])
                tags = tags.to(device)
            with trainer.autocast():
                out, logits = model.outputs(demo.to(device), mask.to(device), x.to(device), force, tags)
            loss, parts = bc_loss(out, y.to(device), x.to(device), cfg.fine_weight)
            aux, aparts = aux_loss(logits.float(), lab.to(device))
            if cfg.aux_weight > 0:
                loss = loss + cfg.aux_weight * aux
            stats = trainer.step(loss)
            if cfg.ema > 0:
                with torch.no_grad():
                    for a, v in ema_pairs:
                        if a.dtype.is_floating_point:
                            a.mul_(cfg.ema).add_(v.detach(), alpha=1.0 - cfg.ema)
                        else:
                            a.copy_(v)
            if trainer.due(step, cfg.log_every):
                run.log(step + 1, **{"train/loss": loss.item(), "train/move_l1": parts["move_l1"],
                                     "train/grip_bce": parts["grip_bce"], "train/aux_ce": aux.item()},
                        **{f"train/{k}": v for k, v in aparts.items()}, **stats)
            if trainer.due(step, cfg.heldout_every):
                run.log(step + 1, **heldout_metrics(model, held, cfg, device))
            checking = select_due(cfg, step)
            if checking:
                val = validate(acting, cfg, data)
                score = (val["select/success"], val["select/stages"])
                if not best or score >= (best["success"], best["stages"]):   # ties: the later weights
                    best = {"step": step + 1, "success": score[0], "stages": score[1], "model": {k: v.copy() for k, v in state_numpy(acting).items()}}   # numpy views alias the live weights
                run.log(step + 1, **val, **{"select/best_step": float(best["step"])})
            if trainer.due(step, cfg.ckpt_every) or (checking and step + 1 < cfg.steps):
                trainer.save(run, step + 1, **extras())
        if best:   # ours: end with the weights that did best on the validation episodes (training tasks)
            model.load_state_dict({k: torch.as_tensor(v) for k, v in best["model"].items()})
        elif cfg.ema > 0:
            model.load_state_dict(averaged.state_dict())
        trainer.save(run, cfg.steps, **extras())
        model.eval()
        result: dict[str, Any] = {"run": f"{run.system}/{run.name}", "algo": cfg.algo, "steps": cfg.steps,
                                  "dataset": str(data.path), "train_tasks": len(data.train),
                                  "test_tasks": len(data.test), "dagger_pairs": pools.extra_pairs,
                                  "wall_s": round(run.wall(), 1),
                                  "cpu_s": round(time.process_time(), 1)}   # this process, from its start
        if best:
            result["selected"] = {"step": best["step"], "validation_success": best["success"],
                                  "validation_stages": best["stages"],
                                  "episodes": cfg.select_episodes * len(data.train)}
        if cfg.eval_trials > 0:
            for split in ("train", "test"):
                res = evaluate_policy(model.cpu(), cfg.model, data, split, cfg.eval_trials, cfg.conditioning, 1,
                                      None, 0, cfg.workers, cfg.address)
                result[split] = res
                run.log(cfg.steps, **{f"{split}/success": res["success"]})
                print(f"{cfg.algo}: {split} success {100 * res['success']:.1f}% "
                      + " ".join(f"{n}:{100 * r['success']:.0f}%" for n, r in res["by_stages"].items()),
                      file=sys.stderr)
            result["expert"] = expert_rates(data.tasks("test"), cfg.physics, cfg.eval_trials, 0, cfg.workers,
                                            cfg.address)
        run.summary(**result)
        draw_run(run)
        return result
