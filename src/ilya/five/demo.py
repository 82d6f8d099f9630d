"""`ilya demo`'s five step: a short self-play run, its win rates, TrueSkill over its snapshots, a replay."""

from __future__ import annotations

from pathlib import Path

from ilya.five.config import RateConfig, ReplayConfig, TrainConfig


def demo(runs_dir: Path) -> None:
    from ilya.five.config import GameConfig
    from ilya.five.evaluate import rate, replay
    from ilya.five.train import train

    print("OpenAI Five's recipe on the 5v5 lane game (50 s games): 1 minute of self-play PPO (LSTM 128, team "
          "spirit, opponent pool), far below the 30-minute benchmark; this shows the pipeline, not final numbers ...",
          flush=True)
    cfg = TrainConfig(run="demo", fresh=True, runs_dir=Path(runs_dir), minutes=1.0, num_games=16, eval_every=0,
                      eval_games=8, pool_every=5, game=GameConfig(max_steps=500))
    res = train(cfg)
    print(f"after {res['iterations']} iterations ({res['game_steps']:,} game steps): win rate "
          f"{res['win_rate_random']:.2f} vs random heroes, {res['win_rate_scripted']:.2f} vs the scripted bot")
    r = rate(RateConfig(run=res["run"], games=2, snapshots=5, runs_dir=Path(runs_dir)))
    print(f"TrueSkill over training: {r['figure']}")
    out = Path(res["run"]) / "plots" / "replay.gif"
    replay(ReplayConfig(out=out, run=res["run"], opponent="scripted", steps=300, every=3, runs_dir=Path(runs_dir)))
