"""The temperature study (benchmarks/five_temperature.py): one temperature per head, the decision trace,
head entropies by hand, and the deaths and kills a match reports."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ilya.five.config import GameConfig
from ilya.five.envs import HEAD_SIZES, KINDS, LaneGame, obs_dim
from ilya.five.matches import play
from ilya.five.policy import N_LOGITS, FivePolicy, PolicyShape
from ilya.five.rollout import PolicyPlayer, logit_divisor

torch.set_num_threads(1)
SHORT = GameConfig(lane_length=40.0, max_steps=60)


def _model(seed: int = 0) -> FivePolicy:
    torch.manual_seed(seed)
    model = FivePolicy(PolicyShape(obs_dim(SHORT), 16, 16))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)  # sharper than at initialisation, so that temperatures matter
    return model.eval()


def test_logit_divisor_repeats_each_heads_temperature() -> None:
    assert logit_divisor(0.5) == 0.5
    d = logit_divisor((1.0, 0.5, 0.25))
    assert isinstance(d, torch.Tensor) and d.shape == (N_LOGITS,)
    k, n, _ = HEAD_SIZES
    assert d[:k].tolist() == [1.0] * k and d[k:k + n].tolist() == [0.5] * n and d[k + n:].tolist() == [0.25] * 6
    with pytest.raises(ValueError):
        logit_divisor((1.0, 0.0, 1.0))
    with pytest.raises(ValueError):
        logit_divisor((1.0, 1.0))  # type: ignore[arg-type]


def _decisions(temperature: float | tuple[float, float, float], steps: int = 8) -> np.ndarray:
    g = LaneGame(2, SHORT, seed=3)
    p = PolicyPlayer(_model(), 2, seed=5, temperature=temperature)
    p.trace = []
    obs = g.reset()
    for _ in range(steps):
        obs = g.step(*p.act(g, obs))[0]
    return np.stack([a for _, _, a in p.trace])


def test_equal_head_temperatures_are_one_temperature() -> None:
    np.testing.assert_array_equal(_decisions((0.5, 0.5, 0.5)), _decisions(0.5))
    assert not np.array_equal(_decisions(0.5), _decisions(2.0))


def test_a_cold_head_plays_its_most_likely_choice() -> None:
    from ilya.five.policy import split_heads

    g = LaneGame(2, SHORT, seed=3)
    p = PolicyPlayer(_model(), 2, seed=5, temperature=(1e-4, 1.0, 1.0))
    p.trace = []
    obs = g.reset()
    for _ in range(8):
        obs = g.step(*p.act(g, obs))[0]
    for logits, mask, acts in p.trace:
        kind = split_heads(torch.as_tensor(logits), torch.as_tensor(mask))[0].argmax(-1).numpy()
        np.testing.assert_array_equal(acts[:, 0], kind)  # the kind head is greedy, the others sample
    hot = np.concatenate([a[:, 1] for _, _, a in p.trace])
    assert len(np.unique(hot)) > 1


def test_head_entropies_by_hand() -> None:
    from ilya.five.evaluate import head_entropies

    logits = np.zeros((2, N_LOGITS), np.float32)
    mask = np.ones((2, N_LOGITS), bool)
    mask[1, :2] = False  # row 1: three legal kinds
    mask[1, len(KINDS):len(KINDS) + 4] = False  # and four legal directions
    e = head_entropies(logits, mask)
    assert e[0].tolist() == pytest.approx([math.log(5), math.log(8), math.log(6)], abs=1e-5)
    assert e[1].tolist() == pytest.approx([math.log(3), math.log(4), math.log(6)], abs=1e-5)
    logits[0, 0] = 2.0  # kind: p = (e^2, 1, 1, 1, 1) / (e^2 + 4); temperature 2 halves the logit
    p = np.array([math.e ** 1.0, 1, 1, 1, 1]) / (math.e + 4)
    assert head_entropies(logits, mask, 2.0)[0, 0] == pytest.approx(float(-(p * np.log(p)).sum()), abs=1e-5)


def test_a_traced_match_is_the_same_match_and_keeps_the_policys_heroes() -> None:
    from ilya.five.evaluate import decision_statistics, traced_match

    model = _model()
    game = GameConfig(lane_length=40.0, max_steps=60, act_every=4)
    r = play(model, "scripted", 4, game, seed=1, temperature=1.0)
    res, trace = traced_match(model, "scripted", 4, game, 1, 1.0)
    assert (res["wins"], res["draws"], res["losses"]) == (r.wins, r.draws, r.losses)
    assert res["deaths_per_game"] == pytest.approx(np.mean(r.deaths))
    decisions = sum(math.ceil(n / 4) for n in r.lengths) * 5  # five heroes per game, every 4th step
    assert len(trace["actions"]) == decisions and trace["logits"].shape == (decisions, N_LOGITS)
    st = decision_statistics(trace, 1.0)
    assert st["decisions"] == decisions and sum(st["kinds"].values()) == pytest.approx(1.0)
    assert st["kind"]["entropy"] == pytest.approx(st["kind"]["entropy_t1"])
    assert 0.0 < st["kind"]["not_greedy"] < 1.0


def test_a_match_counts_deaths_and_kills_of_player_a() -> None:
    game = GameConfig(max_steps=150)
    r = play("scripted", "random", 2, game, seed=0)
    back = play("random", "scripted", 2, game, seed=0)
    assert len(r.deaths) == len(r.kills) == 2
    assert r.kills == [3, 2] and r.deaths == [0, 0]  # measured: the bot kills random heroes, none of its die
    assert back.kills == [0, 0] and back.deaths == [2, 2]


def test_the_temperature_figures_draw_one_curve_per_run(tmp_path: Path) -> None:
    from ilya.core.plotting import png_text
    from ilya.five.plots import temperature_figure

    def r(t: object, w: float) -> dict[str, object]:
        return {"temperature": t, "win_rate": w, "games": 64}

    studies = [{"run": f"s{i}", "policy": "best", "opponent": "scripted", "games": 64,
                "temperatures": [r(0.25, 0.9 - i / 10), r(1.0, 0.7 - i / 10)],
                "heads": [r([1.0, 0.25, 0.25], 0.8)]} for i in range(2)]
    paths = temperature_figure(studies, tmp_path)
    assert [p.name for p in paths] == ["temperature.png", "temperature_heads.png"]
    assert [png_text(p)["ilya:curves"] for p in paths] == ["2", "2"]
    assert temperature_figure([], tmp_path) == []
