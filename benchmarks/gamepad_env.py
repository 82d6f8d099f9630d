"""``ilya/Coq-v0`` throughput: env steps per second (accepted and rejected tactics), resets per second.

One env, one coqtop; a fixed proof of ``forall n : nat, n + 0 = n`` (5 tactics, the last closing the proof
and Qed checked) and a rejected tactic per episode, repeated; the peer figure is coqtop itself fed the
same sentences through a pipe in one go, its start-up subtracted (the floor for any driver).  Run:

    .venv/bin/python benchmarks/gamepad_env.py [--episodes 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time

from ilya.gamepad.coqtop import coqtop_path
from ilya.gamepad.env import CoqEnv

PROOF = ["induction n", "reflexivity", "simpl", "rewrite IHn", "reflexivity"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    env = CoqEnv()
    env.reset()
    steps = 0
    t0 = time.perf_counter()
    for _ in range(args.episodes):
        env.reset()
        env.step("exact I")  # rejected
        steps += 1
        for tac in PROOF:
            _, r, term, _, _ = env.step(tac)
            steps += 1
        assert term and r == 1.0
    dt = time.perf_counter() - t0
    env.close()
    script = "Set Printing All.\n" + "".join(
        "Lemma l : forall n : nat, n + 0 = n.\nexact I.\n" + "".join(f"{t}.\n" for t in PROOF) + "Qed.\nReset l.\n"
        for _ in range(args.episodes))
    def pipe(text: str) -> float:
        t1 = time.perf_counter()
        subprocess.run([coqtop_path(), "-quiet"], input=text, capture_output=True, text=True, check=True)
        return time.perf_counter() - t1

    start_up = min(pipe("Set Printing All.\n") for _ in range(3))
    dc = min(pipe(script) for _ in range(3)) - start_up  # coqtop's start-up is not part of the stepping
    out = {"episodes": args.episodes, "env_steps": steps, "env_s": round(dt, 2), "env_steps_per_s": round(steps / dt, 1),
           "episodes_per_s": round(args.episodes / dt, 2), "coqtop_pipe_s": round(dc, 2),
           "coqtop_sentences_per_s": round(args.episodes * (len(PROOF) + 4) / dc, 1),
           "ratio_env_to_pipe": round(dt / dc, 2)}
    print(json.dumps(out) if args.json else
          f"env: {steps} steps in {dt:.2f} s = {steps / dt:.0f} steps/s ({args.episodes / dt:.1f} episodes/s); "
          f"coqtop fed the same sentences by a pipe: {dc:.2f} s; ratio {dt / dc:.2f}")


if __name__ == "__main__":
    main()
