"""RGB frames of a lane game and replays written as GIF or MP4 (imageio)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ilya.core.errors import IlyaError
from ilya.five.envs import ANCIENT, CREEP, HERO, TOWER, VISION, LaneGame

SCALE = 6  # pixels per map unit
COLORS = {0: np.array([60, 170, 60], np.uint8), 1: np.array([200, 60, 50], np.uint8)}
LANE = np.array([150, 130, 95], np.uint8)
GROUND = np.array([40, 60, 40], np.uint8)
FOG = np.array([25, 25, 30], np.uint8)


def _box(img: np.ndarray, x: float, y: float, r: int, color: np.ndarray) -> None:
    h, w, _ = img.shape
    cx, cy = int(x * SCALE), int(h - 1 - y * SCALE)
    img[max(cy - r, 0):min(cy + r + 1, h), max(cx - r, 0):min(cx + r + 1, w)] = color


def frame(game: LaneGame, g: int = 0, team_view: int | None = None) -> np.ndarray:
    """One game as an (H, W, 3) uint8 image; ``team_view`` darkens what that team cannot see."""
    L, s = game.L, game.s
    W, H = int(L.length * SCALE), int(L.width * SCALE) + 14
    img = np.empty((H, W, 3), np.uint8)
    img[:] = GROUND
    for y in L.lane_y:
        cy = int(H - 1 - y * SCALE)
        img[cy - SCALE:cy + SCALE] = LANE
    if team_view is not None:
        yy, xx = np.mgrid[0:H, 0:W]
        px, py = xx / SCALE, (H - 1 - yy) / SCALE
        seen = np.zeros((H, W), bool)
        for u in np.flatnonzero(s["alive"][g] & (L.team == team_view)):
            x, y = s["pos"][g, u]
            seen |= (px - x) ** 2 + (py - y) ** 2 <= VISION ** 2
        img[~seen] = (img[~seen] * 0.45).astype(np.uint8)
    size = {HERO: 5, CREEP: 2, TOWER: 6, ANCIENT: 9}
    for u in np.flatnonzero(s["alive"][g]):
        x, y = s["pos"][g, u]
        kind, team = int(L.kind[u]), int(L.team[u])
        color = COLORS[team] if kind != HERO else np.minimum(COLORS[team].astype(int) + 55, 255).astype(np.uint8)
        _box(img, x, y, size[kind], color)
        if kind in (HERO, TOWER, ANCIENT):  # health bar
            frac = float(s["hp"][g, u] / game.max_hp_base[u])
            cx, cy = int(x * SCALE), int(H - 1 - y * SCALE) - size[kind] - 4
            w = 2 * size[kind] + 2
            x0 = max(cx - w // 2, 0)
            img[max(cy - 1, 0):cy + 1, x0:x0 + w] = (60, 0, 0)
            img[max(cy - 1, 0):cy + 1, x0:x0 + int(w * frac)] = (240, 240, 60)
    # time bar at the bottom
    t = int(s["t"][g])
    img[-6:, : int(W * min(t / game.cfg.max_steps, 1.0))] = (200, 200, 200)
    return img


def write_replay(frames: Sequence[np.ndarray], out: Path, fps: int = 20) -> Path:
    """Write frames as an animated GIF or (with imageio-ffmpeg installed) an MP4."""
    import imageio.v2 as imageio

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        imageio.mimsave(out, list(frames), duration=1.0 / fps, loop=0)
    elif out.suffix.lower() == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401  # pyright: ignore[reportMissingImports]
        except ImportError:
            raise IlyaError("writing MP4 needs imageio-ffmpeg (pip install imageio-ffmpeg); use a .gif",
                            file=out) from None
        imageio.mimsave(out, list(frames), fps=fps)
    else:
        raise IlyaError(f"replay file {out.name}: expected a .gif or .mp4 name", file=out)
    return out
