"""A copy's speed under load: shape, hardware ordering, and distance to published benchmarks."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.fleet import DEFAULT_FLEET, Model, load_fleet
from config.instance_types import INSTANCE_TYPES
from config.serving import PUBLISHED, TOLERANCE, CopySpeed, Published, batch1_rates, copy_speed


@pytest.fixture(scope="module")
def model() -> Model:
    return load_fleet(DEFAULT_FLEET).models[0]


def with_serving(model: Model, max_concurrency: int) -> Model:
    serving = dataclasses.replace(model.serving, max_concurrency=max_concurrency)
    return dataclasses.replace(model, serving=serving)


def test_each_request_slows_and_the_copy_speeds_up_as_concurrency_rises(model: Model) -> None:
    speed = copy_speed("ml.g6.2xlarge", with_serving(model, max_concurrency=16))
    per_request = [speed.decode_tokens_per_s(n) for n in range(1, 17)]
    aggregate = [speed.aggregate_decode_tokens_per_s(n) for n in range(1, 17)]
    prefill = [speed.prefill_tokens_per_s(n) for n in range(1, 17)]
    assert all(a > b for a, b in itertools.pairwise(per_request))
    assert all(a > b for a, b in itertools.pairwise(prefill))
    assert all(a < b for a, b in itertools.pairwise(aggregate))
    # Sublinear: 16 requests give more than 8 times one request's tokens, but not 16 times.
    assert 8 * aggregate[0] < aggregate[15] < 16 * aggregate[0]


def test_an_l4_copy_is_slower_than_an_a10g_copy_of_the_same_model(model: Model) -> None:
    l4 = copy_speed("ml.g6.2xlarge", model)
    a10g = copy_speed("ml.g5.2xlarge", model)
    for n in (1, 8, model.serving.max_concurrency):
        assert l4.decode_tokens_per_s(n) < a10g.decode_tokens_per_s(n)
        assert l4.prefill_tokens_per_s(n) < a10g.prefill_tokens_per_s(n)


def test_batch_one_decode_stays_under_the_memory_bandwidth_ceiling() -> None:
    # An 8B model in BF16 (16 GB) on an L4 (300 GB/s) cannot exceed 18.75 tokens/s.
    decode, _ = batch1_rates("ml.g6.2xlarge", 16.0)
    assert 0.75 * 18.75 <= decode <= 0.80 * 18.75 + 1e-9


def test_the_curves_stop_at_the_fleet_files_max_concurrency(model: Model) -> None:
    speed = copy_speed("ml.g5.2xlarge", with_serving(model, max_concurrency=4))
    assert speed.max_concurrency == 4
    speed.decode_tokens_per_s(4)
    with pytest.raises(ValueError, match=r"outside 1\.\.4"):
        speed.decode_tokens_per_s(5)
    with pytest.raises(ValueError, match="outside"):
        speed.prefill_tokens_per_s(0)
    # The simulator may count with numpy integers.
    assert speed.decode_tokens_per_s(np.int64(3)) == speed.decode_tokens_per_s(3)  # type: ignore[arg-type]


def test_a_multi_gpu_copy_is_faster_but_not_in_proportion(model: Model) -> None:
    one = copy_speed("ml.g5.12xlarge", model)
    four = copy_speed("ml.g5.12xlarge", dataclasses.replace(model, accelerators=4))
    ratio = four.decode_tokens_per_s(1) / one.decode_tokens_per_s(1)
    assert 1.5 < ratio < 4


def test_measured_batch_one_rates_replace_the_physics_and_keep_the_shape(model: Model) -> None:
    physics = copy_speed("ml.g6.2xlarge", model)
    measured = copy_speed(
        "ml.g6.2xlarge", model, batch1_decode_tokens_per_s=20.0, batch1_prefill_tokens_per_s=5000
    )
    assert measured.decode_tokens_per_s(1) == 20.0
    assert measured.prefill_tokens_per_s(1) == 5000
    assert measured.decode_tokens_per_s(8) / 20.0 == pytest.approx(
        physics.decode_tokens_per_s(8) / physics.decode_tokens_per_s(1)
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: copy_speed("ml.g9.xlarge", m), "unknown instance type 'ml.g9.xlarge'"),
        (
            lambda m: copy_speed("ml.g6.2xlarge", dataclasses.replace(m, accelerators=4)),
            "does not fit ml.g6.2xlarge",
        ),
        (lambda m: batch1_rates("ml.g6.2xlarge", 0.0), "model_gb must be a number > 0"),
        (lambda m: CopySpeed(0, 10.0, 100.0), "max_concurrency must be >= 1"),
        (lambda m: CopySpeed(4, math.nan, 100.0), "batch1_decode_tokens_per_s must be"),
        (lambda m: CopySpeed(4, 10.0, 100.0).decode_tokens_per_s(2.5), "must be an int"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_what_is_wrong(
    model: Model, call: Callable[[Model], object], message: str
) -> None:
    with pytest.raises((ValueError, KeyError), match=message):
        call(model)


@pytest.mark.parametrize(
    "point", [p for p in PUBLISHED if p.fitted], ids=lambda p: f"{p.instance_type}-{p.metric}"
)
def test_the_model_is_within_tolerance_of_each_fitted_published_figure(point: Published) -> None:
    assert abs(point.error()) <= TOLERANCE, (point, point.model_value())


def test_the_calibration_covers_a10g_decode_and_prefill_under_load() -> None:
    a10g = [p for p in PUBLISHED if p.fitted and p.instance_type.startswith("ml.g5")]
    assert {p.metric for p in a10g} == {"decode", "prefill"}
    assert max(p.concurrency for p in a10g) >= 16


_TYPES = sorted(t for t, facts in INSTANCE_TYPES.items() if facts.gpus >= 1)


@given(
    instance=st.sampled_from(_TYPES),
    model_gb=st.floats(min_value=0.5, max_value=200.0),
    max_concurrency=st.integers(min_value=1, max_value=256),
    data=st.data(),
)
def test_rates_are_positive_finite_and_monotone(
    instance: str, model_gb: float, max_concurrency: int, data: st.DataObject
) -> None:
    accelerators = data.draw(st.integers(min_value=1, max_value=INSTANCE_TYPES[instance].gpus))
    decode, prefill = batch1_rates(instance, model_gb, accelerators)
    speed = CopySpeed(max_concurrency, decode, prefill)
    n = data.draw(st.integers(min_value=1, max_value=max_concurrency))
    for value in (
        speed.decode_tokens_per_s(n),
        speed.prefill_tokens_per_s(n),
        speed.aggregate_decode_tokens_per_s(n),
    ):
        assert math.isfinite(value) and value > 0
    if n < max_concurrency:
        assert speed.decode_tokens_per_s(n + 1) < speed.decode_tokens_per_s(n)
        assert speed.prefill_tokens_per_s(n + 1) < speed.prefill_tokens_per_s(n)
        assert speed.aggregate_decode_tokens_per_s(n + 1) > speed.aggregate_decode_tokens_per_s(n)
