"""Block-stacking tasks: layouts of towers, their stages, and the training / test task sets.

A layout names towers left to right, bottom block first: ``ab cde`` is b on a, and e on d on c.  One stage
is one block placed, so ``ab cde`` has three stages (b on a, d on c, e on d), done in that order.  Blocks of
the scene missing from the layout stay where they are.  A task set draws layouts by number of stages and
splits them into training and test tasks with disjoint layouts (a layout and the same towers in another
order count as one layout).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from ilya.core.errors import IlyaError
from ilya.imitation.config import TaskSetConfig
from ilya.imitation.scene import LABELS


@dataclass(frozen=True)
class Task:
    """One desired layout."""

    layout: str
    """towers separated by spaces, bottom block first (``ab cde``)"""
    n_blocks: int
    """blocks in the scene (a to the n-th letter)"""

    @property
    def towers(self) -> list[str]:
        return self.layout.split()

    @property
    def stages(self) -> list[tuple[int, int]]:
        """(block placed, block it goes on), as scene indices, in the order a demonstration does them."""
        out: list[tuple[int, int]] = []
        for tower in self.towers:
            for below, above in zip(tower, tower[1:], strict=False):
                out.append((LABELS.index(above), LABELS.index(below)))
        return out

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    @property
    def canonical(self) -> str:
        """The layout with its towers sorted: the same goal whatever order the towers are listed in."""
        return " ".join(sorted(self.towers))


def parse_layout(layout: str, n_blocks: int | None = None) -> Task:
    """A `Task` from a layout string; an unknown or repeated label, or one outside the scene, is an IlyaError."""
    text = " ".join(layout.split())
    if not text:
        raise IlyaError(f"layout {layout!r}: expected towers of block labels a-j separated by spaces, e.g. 'ab cde'")
    seen: set[str] = set()
    for ch in text.replace(" ", ""):
        if ch not in LABELS:
            raise IlyaError(f"layout {layout!r}: unknown block label {ch!r} (expected letters a-j, towers "
                            "separated by spaces, e.g. 'ab cde')")
        if ch in seen:
            raise IlyaError(f"layout {layout!r}: block {ch!r} appears twice")
        seen.add(ch)
    needed = max(LABELS.index(c) for c in seen) + 1
    if n_blocks is None:
        n_blocks = needed
    if n_blocks > len(LABELS) or n_blocks < 1:
        raise IlyaError(f"{n_blocks} blocks: a scene holds 1 to {len(LABELS)} blocks")
    if needed > n_blocks:
        bad = max(seen, key=LABELS.index)
        raise IlyaError(f"layout {layout!r}: block {bad!r} is outside the scene of {n_blocks} blocks "
                        f"(a-{LABELS[n_blocks - 1]})")
    return Task(text, n_blocks)


@dataclass(frozen=True)
class TaskSet:
    """Training and test tasks with disjoint layouts."""

    train: list[Task]
    test: list[Task]
    max_blocks: int

    def fingerprint(self) -> str:
        """A short hash of the task set (a dataset records it and is refused by another task set)."""
        blob = json.dumps({"train": [t.layout for t in self.train], "test": [t.layout for t in self.test],
                           "max_blocks": self.max_blocks})
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def all(self) -> list[tuple[str, int, Task]]:
        """(split, index, task) of every task, training tasks first."""
        return [("train", i, t) for i, t in enumerate(self.train)] + [("test", i, t) for i, t in enumerate(self.test)]


def random_layout(rng: random.Random, n_blocks: int, n_stages: int) -> str:
    """A layout of ``n_blocks`` blocks in ``n_blocks - n_stages`` towers (each at least one block)."""
    towers = n_blocks - n_stages
    cuts = sorted(rng.sample(range(1, n_blocks), towers - 1))
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n_blocks], strict=True)]
    labels = list(LABELS[:n_blocks])
    rng.shuffle(labels)
    out, k = [], 0
    for s in sizes:
        out.append("".join(labels[k:k + s]))
        k += s
    return " ".join(out)


def make_task_set(max_blocks: int = 6, max_stages: int = 5, n_train: int = 40, n_test: int = 12,
                  seed: int = 0) -> TaskSet:
    """Draw layouts spread evenly over 1..max_stages stages, split into disjoint training and test tasks.

    Each task's scene holds ``max_blocks`` blocks (so every task has the same objects, as in the paper);
    the number of blocks in towers varies with the number of stages.
    """
    if not 2 <= max_blocks <= len(LABELS):
        raise IlyaError(f"--max-blocks {max_blocks}: expected 2 to {len(LABELS)}")
    if not 1 <= max_stages <= max_blocks - 1:
        raise IlyaError(f"--max-stages {max_stages}: expected 1 to max_blocks - 1 = {max_blocks - 1}")
    rng = random.Random(seed)
    total = n_train + n_test
    per_stage = [total // max_stages + (1 if s < total % max_stages else 0) for s in range(max_stages)]
    seen: set[str] = set()
    by_stage: list[list[Task]] = []
    for s, want in enumerate(per_stage, start=1):
        got: list[Task] = []
        tries = 0
        while len(got) < want and tries < 10_000:
            tries += 1
            # towers of the moved blocks: use between s+1 and max_blocks blocks
            n_used = rng.randint(s + 1, max_blocks)
            lay = random_layout(rng, n_used, s)
            lay = " ".join(t for t in lay.split() if len(t) > 1)  # singletons are just blocks left alone
            task = Task(lay, max_blocks)
            if task.canonical in seen:
                continue
            seen.add(task.canonical)
            got.append(task)
        by_stage.append(got)
    train: list[Task] = []
    test: list[Task] = []
    # test tasks: the same share of every number of stages
    for s, tasks in enumerate(by_stage):
        k = round(len(tasks) * n_test / max(total, 1))
        if s == len(by_stage) - 1:
            k = max(0, n_test - len(test))
        k = min(k, len(tasks), n_test - len(test))
        test += tasks[:k]
        train += tasks[k:]
    return TaskSet(train[:n_train], test[:n_test], max_blocks)


def task_set_from_config(cfg: TaskSetConfig) -> TaskSet:
    """The task set of a config's task flags."""
    return make_task_set(cfg.max_blocks, cfg.max_stages, cfg.train_tasks, cfg.test_tasks, cfg.task_seed)
