"""Why the policies fail (docs/imitation.md): held-out action error against standing still and a random
policy, grip accuracy, and how much the move changes when the demonstration is swapped for another task's.

    .venv/bin/python benchmarks/imitation_diagnose.py runs/imitation/dagger-default runs/imitation/bc-default

1,024 states (with the expert's actions) from the test tasks' demonstrations, drawn with seed 123, each
conditioned on another demonstration of its task subsampled as at test time; also how often the context
network's attention heads 0 and 1 pick the current stage's block to move and the block it goes on.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

from ilya.core.runs import Run
from ilya.imitation.evaluate import load_policy
from ilya.imitation.policy import aux_loss
from ilya.imitation.train import Pools


def main() -> None:
    torch.set_num_threads(1)
    for ref in sys.argv[1:]:
        run = Run.load(ref)
        model, _, data = load_policy(run)
        held = Pools(data, split="test")
        demo, mask, x, y, lab = held.labelled_batch(np.random.default_rng(123), 1024, 0.95, "demo", test_time=True)
        perm = torch.randperm(1024, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            out, logits = model.outputs(demo, mask, x)
            swapped = model(demo[perm], mask[perm], x)
        _, att = aux_loss(logits, lab)
        move = torch.tanh(out[:, :3])
        rand = torch.rand(1024, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
        s = run.read_summary()
        print(ref, json.dumps({
            "move_l1": round(float((move - y[:, :3]).abs().mean()), 3),
            "standing_still_l1": round(float(y[:, :3].abs().mean()), 3),
            "random_l1": round(float((rand - y[:, :3]).abs().mean()), 3),
            "grip_accuracy": round(float(((out[:, 3] > 0) == (y[:, 3] > 0)).float().mean()), 3),
            "move_change_other_demo": round(float((torch.tanh(swapped[:, :3]) - move).abs().mean()), 3),
            "head0_names_block_to_move": round(att.get("source_acc", float("nan")), 3),
            "head1_names_block_it_goes_on": round(att.get("target_acc", float("nan")), 3),
            "test_success": s.get("test", {}).get("success"), "wall_s": s.get("wall_s")}))


if __name__ == "__main__":
    main()
