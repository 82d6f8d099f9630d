"""`versus_floor`: the 'clearly above random' test of the comparison table, against hand-computed intervals."""

import math

import pytest

from ilya.metarl.compare import versus_floor


def test_versus_floor_uses_the_t_interval_over_seeds_and_the_floors_normal_interval():
    # mean 0.2, s.e. 0.01 / sqrt(3); t(2, 95%) = 4.303; floor 0.127 ± 1.96 * 0.003
    half = 4.303 * 0.01 / math.sqrt(3)
    v = versus_floor([0.21, 0.20, 0.19], 0.127, 0.003)
    assert v["ci95"] == pytest.approx([0.2 - half, 0.2 + half])
    assert v["floor_ci95"] == pytest.approx([0.127 - 0.00588, 0.127 + 0.00588])
    assert v["above"] is True
    # the same spread around 0.15: the interval's low end (0.125) is inside the floor's interval
    assert versus_floor([0.16, 0.15, 0.14], 0.127, 0.003)["above"] is False
    # a learner below the floor is never 'above'; without a floor s.e. the floor is a point
    assert versus_floor([0.10, 0.11, 0.12], 0.127, None) == {
        "ci95": pytest.approx([0.11 - half, 0.11 + half]), "floor_ci95": [0.127, 0.127], "above": False}
