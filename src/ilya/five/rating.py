"""TrueSkill ratings of a run's snapshots against fixed references (random heroes, the scripted bot).

The paper's headline figure is TrueSkill over training (Berner et al. 2019, Figure 3), each version rated
in games against earlier versions and fixed references.  Here every snapshot plays the random heroes, the
scripted bot and the snapshots 1, 2 and 4 places before it; each game updates both players' ratings with
`trueskill.rate_1vs1` (a draw where the game was drawn).  Random heroes are the anchor: ratings are
reported as μ minus the random player's μ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ilya.core.checkpoint import load_state, save_state
from ilya.core.progress import progress
from ilya.five.config import GameConfig
from ilya.five.matches import play
from ilya.five.rollout import Weights, from_numpy

_SNAP = re.compile(r"^v(\d{9})\.safetensors$")


def save_snapshot(folder: Path, version: int, game_steps: int, weights: Weights, keep: int = 24) -> None:
    """Write the policy of ``version``; past ``keep`` snapshots every other one is thinned out, and later
    versions are written only on the thinned (doubled) stride, so the snapshots stay evenly spaced."""
    folder.mkdir(parents=True, exist_ok=True)
    old = [int(_SNAP.match(p.name)[1]) for p in snapshots(folder)]  # type: ignore[index]
    stride = old[2] - old[1] if len(old) > 2 else 0
    if stride > 0 and version % stride != 0:
        return
    save_state(folder / f"v{version:09d}.safetensors", {"version": version, "game_steps": game_steps,
                                                         "weights": weights})
    snaps = snapshots(folder)
    if len(snaps) > keep:
        for p in snaps[1:-1:2]:
            p.unlink(missing_ok=True)


def snapshots(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _SNAP.match(p.name))


def load_snapshot(path: Path) -> tuple[int, int, Weights]:
    blob = load_state(path)
    return int(blob["version"]), int(blob["game_steps"]), {k: np.asarray(v) for k, v in blob["weights"].items()}


@dataclass
class Rating:
    name: str
    version: int
    game_steps: int
    mu: float
    sigma: float


def rate(folder: Path, cfg: GameConfig, games: int, seed: int = 0, max_snapshots: int = 12,
         temperature: float = 1.0) -> dict[str, Any]:
    """Ratings of up to ``max_snapshots`` evenly spaced snapshots, random heroes and the scripted bot."""
    import trueskill

    env = trueskill.TrueSkill(draw_probability=0.05)
    paths = snapshots(folder)
    if len(paths) > max_snapshots:
        keep = np.unique(np.linspace(0, len(paths) - 1, max_snapshots).round().astype(int))
        paths = [paths[i] for i in keep]
    players: dict[str, Any] = {"random": "random", "scripted": "scripted"}
    meta: dict[str, tuple[int, int]] = {}
    for p in paths:
        version, steps, weights = load_snapshot(p)
        players[f"v{version}"] = from_numpy(weights)
        meta[f"v{version}"] = (version, steps)
    ratings = {name: env.create_rating() for name in players}
    snaps = list(meta)
    pairs: list[tuple[str, str]] = [("scripted", "random")]
    for i, name in enumerate(snaps):
        pairs += [(name, "random"), (name, "scripted")]
        pairs += [(name, snaps[i - k]) for k in (1, 2, 4) if i - k >= 0]
    record = []
    for j, (a, b) in enumerate(progress(pairs, desc="trueskill")):
        res = play(players[a], players[b], games, cfg, seed=seed + 31 * j, temperature=temperature)
        outcomes = ["a"] * res.wins + ["b"] * res.losses + ["d"] * res.draws
        for o in outcomes:
            ra, rb = ratings[a], ratings[b]
            if o == "a":
                ra, rb = env.rate_1vs1(ra, rb)  # pyright: ignore[reportAttributeAccessIssue]
            elif o == "b":
                rb, ra = env.rate_1vs1(rb, ra)  # pyright: ignore[reportAttributeAccessIssue]
            else:
                ra, rb = env.rate_1vs1(ra, rb, drawn=True)  # pyright: ignore[reportAttributeAccessIssue]
            ratings[a], ratings[b] = ra, rb
        record.append({"a": a, "b": b, "wins": res.wins, "losses": res.losses, "draws": res.draws})
    anchor = ratings["random"].mu
    out = [Rating(name, *(meta.get(name, (-1, -1))), ratings[name].mu - anchor, ratings[name].sigma)
           for name in players]
    return {"ratings": [r.__dict__ for r in out], "matches": record, "anchor": "random heroes = 0"}
