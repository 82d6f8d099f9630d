"""`ilya demo` step: a small one-shot imitation pipeline end to end (about 1-2 minutes on 2 cores)."""

from __future__ import annotations

from pathlib import Path

from ilya.imitation.config import TrainConfig, VideoConfig


def demo(runs_dir: Path) -> None:
    """Collect scripted demonstrations, train DAgger briefly on a small task set, evaluate by stages, render GIFs."""
    import torch

    from ilya.core.figures import draw_paper
    from ilya.core.runs import Run
    from ilya.imitation.evaluate import format_rates
    from ilya.imitation.train import train
    from ilya.imitation.video import video

    torch.set_num_threads(1)
    runs_dir = Path(runs_dir)
    cfg = TrainConfig(algo="dagger", max_blocks=4, max_stages=2, train_tasks=12, test_tasks=4, demos_per_task=16,
                      test_demos_per_task=6, steps=3000, dagger_start=0.4, dagger_rounds=3, log_every=50,
                      ckpt_every=500, eval_trials=8, run="demo-dagger-small", runs_dir=runs_dir, threads=1)
    print("One-shot imitation on MuJoCo block stacking: 12 training / 4 test layouts of up to 4 blocks, "
          "DAgger for 3000 steps (a small version of the runs of docs/imitation.md) ...", flush=True)
    res = train(cfg)
    print(format_rates("DAgger, training tasks", res["train"]))
    print(format_rates("DAgger, test tasks", res["test"]))
    print(format_rates("scripted expert, test tasks", res["expert"]))
    run = Run.load(res["run"], runs_dir)
    print(f"success by stages: {run.plots_dir / 'success_by_stages.png'}")
    paths = draw_paper("imitation", [r for r in Run.all(runs_dir) if r.system == "imitation"],
                       runs_dir / "imitation" / "figures")
    for p in paths:
        print(f"paper figure (ours beside the paper's): {p}")
    for who, ref in (("expert", None), ("policy", res["run"])):
        video(VideoConfig(layout="ab cd", blocks=4, run=ref, seed=3, runs_dir=runs_dir,
                          out=runs_dir / "imitation" / "figures" / f"{who}_ab_cd.gif"))
