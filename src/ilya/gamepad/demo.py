"""`ilya demo` step for GamePad: a real proof stepped in the live env, a rewrite proof synthesized and
checked by Coq, and the two tasks trained on a mathcomp file extracted on the spot (about a minute)."""

from __future__ import annotations

from pathlib import Path


def demo(runs_dir: Path) -> None:
    from ilya.gamepad.config import RewriteConfig, TrainConfig
    from ilya.gamepad.env import CoqEnv
    from ilya.gamepad.rewrite import rewrite_command
    from ilya.gamepad.train import train

    print("1. ilya/Coq-v0: proving forall n, n + 0 = n tactic by tactic (a wrong tactic is rejected):")
    env = CoqEnv()
    obs, _ = env.reset()
    print("   goal: " + obs.splitlines()[-1].strip())
    for tac in ("reflexivity", "induction n", "reflexivity", "simpl", "rewrite IHn", "reflexivity"):
        _, r, term, _, info = env.step(tac)
        what = "accepted" if info.get("accepted") else f"rejected ({' '.join(str(info.get('message', '')).split())[:70]})"
        print(f"   {tac:14s} -> {what}, reward {float(r):+.2f}{'  Qed accepted' if term else ''}")
    env.close()
    print("2. Algebraic rewrite synthesis (section 4): 100 training problems, 20 held-out, every proof Qed-checked:")
    rewrite_command(RewriteConfig(train_problems=100, test_problems=20, run="demo-rewrite", fresh=True,
                                  runs_dir=Path(runs_dir)))
    print("3. Tactic prediction on the built-in sample corpus (extracted through coqtop): SVM and TreeLSTM")
    for model in ("svm", "treelstm"):
        train(TrainConfig(task="tactic", model=model, data="tiny", steps=150, eval_every=50, dim=32,
                          run=f"demo-tactic-{model}", fresh=True, runs_dir=Path(runs_dir), threads=1))
