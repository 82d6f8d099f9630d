"""Where a policy's failed episodes end (docs/imitation.md, the robust recipe: the traced stalls).

    .venv/bin/python benchmarks/imitation_stalls.py RUN

One episode per training task (the evaluation's first initial state, conditioned on the first demonstration);
for each failure: the stage reached, the block held, the hand's xy and z distance to the block it should go to,
the policy's and the expert's action in the last state.
"""
import sys

import numpy as np
import torch

from ilya.core.runs import Run
from ilya.imitation.env import BlockStackEnv
from ilya.imitation.evaluate import eval_seed, load_policy
from ilya.imitation.expert import expert_action
from ilya.imitation.policy import pack_demos, to_action
from ilya.imitation.rollout import condition

torch.set_num_threads(1)
run = Run.load(sys.argv[1], "runs", system="imitation")
model, cfg, data = load_policy(run)
tasks = data.tasks("train")
rows = []
for i, (task, shard) in enumerate(zip(tasks, data.train, strict=True)):
    env = BlockStackEnv(task.layout, n_blocks=data.max_blocks, max_blocks=data.max_blocks, physics="hybrid")
    obs, _ = env.reset(seed=eval_seed(0, "train", i, 0))
    demo_t, mask = pack_demos([condition(shard["obs"][0], int(shard["lengths"][0]), "demo", 0.95)])
    with torch.no_grad():
        emb = model.encode_demo(demo_t, mask)
    hist = []
    done = False
    while not done:
        with torch.no_grad():
            out = model.act_from(emb, mask, torch.from_numpy(obs[None].astype(np.float32)))
        a = to_action(out)[0]
        e = expert_action(env)
        k = env.stages_done()
        held = env.held()
        if k < len(task.stages):
            up, lo = task.stages[k]
            tgt = env.block_pos()[up] if held is None else env.block_pos()[lo]
            d = tgt - env.hand
        else:
            d = np.zeros(3)
        hist.append((k, held, np.hypot(d[0], d[1]), d[2], a.copy(), e.copy()))
        obs, _, term, trunc, info = env.step(a)
        done = term or trunc
    if not info["success"]:
        tail = hist[-30:]
        k, held, xy, dz, a, e = tail[-1]
        xys = [t[2] for t in tail]
        print(f"{task.layout:8} stage {k}/{len(task.stages)} held={held} xy {100*xy:.1f}cm (tail {100*min(xys):.1f}-{100*max(xys):.1f}) dz {100*dz:.1f}cm "
              f"pol {np.round(a,2)} exp {np.round(e,2)}")
        rows.append(xy)
    env.close()
print("failed", len(rows), "of", len(tasks))
