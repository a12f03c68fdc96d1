import math
from collections import Counter

import pytest
from pydantic import TypeAdapter

from synthact.config.distributions import category_dist, int_dist, number_dist
from synthact.rng import Stream

N = 20_000


def draws(dist, n=N, seed=0):
    s = Stream(seed, "test")
    return [dist.sample(s, f"x{i}") for i in range(n)]


def parse(annotation, value):
    return TypeAdapter(annotation).validate_python(value)


def test_uniform_covers_its_range_evenly():
    yaw = parse(number_dist(ge=-360, le=360), {"min": -180, "max": 180})
    values = draws(yaw)
    assert -180 <= min(values) < -179 and 179 < max(values) <= 180
    counts = Counter(int((v + 180) // 36) for v in values)  # ten bins of 36 degrees
    assert set(counts) == set(range(10))
    assert all(abs(c / N - 0.1) < 0.015 for c in counts.values())


def test_weighted_choice_matches_weights():
    weather = parse(category_dist("clear", "fog", "rain"),
                    {"dist": "choice", "values": ["clear", "fog", "rain"], "weights": [6, 3, 1]})
    counts = Counter(draws(weather))
    for name, expected in (("clear", 0.6), ("fog", 0.3), ("rain", 0.1)):
        assert abs(counts[name] / N - expected) < 0.015


def test_list_shorthand_is_a_uniform_choice_and_scalar_is_fixed():
    ground = parse(category_dist("grass", "sand"), ["grass", "sand"])
    assert abs(Counter(draws(ground))["grass"] / N - 0.5) < 0.02
    assert set(draws(parse(category_dist("grass", "sand"), "sand"), 50)) == {"sand"}
    assert set(draws(parse(number_dist(gt=0), 2.5), 50)) == {2.5}


def test_clipped_normal_has_right_moments_and_stays_in_range():
    d = parse(number_dist(gt=0), {"dist": "normal", "mean": 5, "std": 1, "min": 3.5, "max": 8})
    values = draws(d)
    assert min(values) == 3.5 and max(values) <= 8
    inner = [v for v in values if 3.5 < v < 8]
    mean = sum(values) / N
    assert abs(mean - 5.03) < 0.05  # clipping the lower tail at -1.5 sigma raises the mean slightly
    assert 0.06 < values.count(3.5) / N < 0.075  # P(z < -1.5) = 0.0668
    assert len(inner) > 0.9 * N


def test_int_range_includes_both_ends_uniformly():
    d = parse(int_dist(ge=1, le=10), {"dist": "int_range", "min": 1, "max": 4})
    counts = Counter(draws(d))
    assert set(counts) == {1, 2, 3, 4}
    assert all(abs(c / N - 0.25) < 0.02 for c in counts.values())


def test_draws_are_keyed_not_sequential():
    d = parse(number_dist(), {"min": 0, "max": 1})
    s = Stream(42, "scene/7")
    assert d.sample(s, "a") == d.sample(Stream(42, "scene/7"), "a")
    assert d.sample(s, "a") != d.sample(s, "b")
    assert d.sample(s, "a") != d.sample(Stream(43, "scene/7"), "a")


@pytest.mark.parametrize("bad", [{"min": 0, "max": 11}, {"dist": "choice", "values": [0, 12]}, 11, -1,
                                 {"dist": "normal", "mean": 5, "std": 1, "min": 0, "max": 12}])
def test_field_bounds_apply_to_every_form(bad):
    with pytest.raises(Exception):
        parse(number_dist(ge=0, le=10), bad)


def test_rng_uniform_is_open_interval_and_normal_is_standard():
    s = Stream(1, "rng")
    u = [s.uniform01(str(i)) for i in range(N)]
    assert 0 < min(u) and max(u) < 1
    z = [s.normal(str(i)) for i in range(N)]
    mean = sum(z) / N
    var = sum((x - mean) ** 2 for x in z) / N
    assert abs(mean) < 0.03 and abs(math.sqrt(var) - 1) < 0.03
