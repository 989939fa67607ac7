"""SLO-driven sizing: worked numbers checked by hand or against Erlang C, and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.sizing import (
    arrival_rate_from_concurrency,
    concurrency_per_copy,
    copies_for_slo,
    max_concurrency_per_copy_for_slo,
    slo_attainment,
    threshold_copies,
)

ONE_AT_A_TIME = CopyModel.constant(1, prefill_s=0.2, service_s=1.0)
DEFAULT_COPY = CopyModel.constant(16, prefill_s=0.34, service_s=1.46)
# A copy of 16 that slows 10 % per extra request: service 1.46 s alone, 3.65 s at 16.
SLOWING = CopyModel(
    16,
    tuple(0.34 * (1 + 0.1 * (n - 1)) for n in range(1, 17)),
    tuple(1.46 * (1 + 0.1 * (n - 1)) for n in range(1, 17)),
)


def erlang_c(servers: int, load: float) -> float:
    """P(wait) in M/M/N by the Erlang B recursion, written independently of the module."""
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    rho = load / servers
    return blocking / (1 - rho + rho * blocking)


def mmn_attainment(servers: int, rate: float, service_s: float, budget_s: float) -> float:
    """Share of M/M/N arrivals that wait at most ``budget_s``."""
    drain = servers / service_s - rate
    return 1 - erlang_c(servers, rate * service_s) * math.exp(-drain * budget_s)


def test_two_copies_one_request_each_is_textbook_erlang_c() -> None:
    # Given lambda = 1/s, 1 s service, 2 single-request copies: P(wait) = 1/3,
    # P(wait > 2 - 0.2 s) = (1/3) e^-1.8 = 0.0551
    assert slo_attainment(1.0, 2, ONE_AT_A_TIME, ttft_s=2.0) == pytest.approx(0.9449, abs=1e-4)
    assert slo_attainment(1.0, 3, ONE_AT_A_TIME, ttft_s=2.0) == pytest.approx(0.9975, abs=1e-4)


def test_constant_speed_copies_pool_into_one_mmn_queue() -> None:
    # 3 copies of 16 at a fixed 1.46 s are M/M/48; 25 req/s offer 36.5 Erlangs
    got = slo_attainment(25.0, 3, DEFAULT_COPY, ttft_s=0.5)
    assert got == pytest.approx(mmn_attainment(48, 25.0, 1.46, 0.5 - 0.34), rel=1e-9)
    assert got == pytest.approx(0.9870, abs=1e-4)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_load_dependent_chain_by_hand() -> None:
    # One copy of 2: alone a request takes 1 s, two together take 1.5 s each.
    # P(k) / P(0): 1, 0.5, then 0.5 x 0.5 / (4/3) = 0.1875 and a tail of ratio 0.375:
    # P(0) = 1 / 1.8, P(1) = 0.5 / 1.8, P(wait) = 0.3 / 1.8 = 1/6.
    # Wait within 1 - 0.3 s: 1 - e^-(4/3 - 0.5) x 0.7 = 0.442.
    model = CopyModel(2, (0.2, 0.3), (1.0, 1.5))
    expected = (1 + 0.5) / 1.8 + (1 / 6) * (1 - math.exp(-(4 / 3 - 0.5) * 0.7))
    assert slo_attainment(0.5, 1, model, ttft_s=1.0) == pytest.approx(expected)
    assert expected == pytest.approx(0.9070, abs=1e-4)


def test_prefill_at_the_concurrency_met_counts() -> None:
    # Prefill 1.5 s at concurrency 2 misses a 1 s SLO even without any queue: only arrivals
    # that find the copy idle meet it. Throughput 1/s at 1 and 2, lambda 0.5/s: P(0) = 1/2,
    # P(1) = 1/4, P(2 or more: wait) = 1/4. With a 1.5 s SLO those finding one request also
    # meet it; those who wait cannot (no time left after a 1.5 s prefill).
    model = CopyModel(2, (0.5, 1.5), (1.0, 2.0))
    assert slo_attainment(0.5, 1, model, ttft_s=1.0) == pytest.approx(0.5)
    assert slo_attainment(0.5, 1, model, ttft_s=1.5) == pytest.approx(0.75)


def test_copies_for_the_slo() -> None:
    sized = copies_for_slo(1.0, ONE_AT_A_TIME, ttft_s=2.0, attainment=0.99, max_copies=10)
    assert (sized.copies, sized.met) == (3, True)
    assert sized.attainment == pytest.approx(0.9975, abs=1e-4)
    # 6 slowing copies keep up with 25/s (6 x 16 / 3.65 = 26.3/s) but miss; 7 meet it.
    assert slo_attainment(25.0, 6, SLOWING, ttft_s=2.0) == pytest.approx(0.924, abs=1e-3)
    sized = copies_for_slo(25.0, SLOWING, ttft_s=2.0, attainment=0.99, max_copies=20)
    assert (sized.copies, sized.met) == (7, True)
    assert concurrency_per_copy(25.0, 7, SLOWING) == pytest.approx(9.97, abs=0.01)
    # Fixed-speed copies need only 3 for the same 25/s: ignoring the slowdown undersizes by 4.
    assert (
        copies_for_slo(25.0, DEFAULT_COPY, ttft_s=2.0, attainment=0.99, max_copies=20).copies == 3
    )


def test_no_load_needs_no_copy_and_a_cap_is_never_exceeded() -> None:
    assert copies_for_slo(0.0, SLOWING, ttft_s=2.0, attainment=0.99, max_copies=8).copies == 0
    short = copies_for_slo(100.0, SLOWING, ttft_s=2.0, attainment=0.99, max_copies=8)
    assert (short.copies, short.met, short.attainment) == (8, False, 0.0)


def test_an_slo_shorter_than_prefill_cannot_be_met() -> None:
    sized = copies_for_slo(1.0, ONE_AT_A_TIME, ttft_s=0.1, attainment=0.9, max_copies=5)
    assert (sized.copies, sized.met) == (5, False)
    assert (
        max_concurrency_per_copy_for_slo(ONE_AT_A_TIME, copies=2, ttft_s=0.1, attainment=0.9) == 0.0
    )


def test_threshold_for_the_slo() -> None:
    per_copy = max_concurrency_per_copy_for_slo(
        ONE_AT_A_TIME, copies=3, ttft_s=2.0, attainment=0.99
    )
    assert per_copy == pytest.approx(0.5073, abs=1e-3)
    one = max_concurrency_per_copy_for_slo(SLOWING, copies=1, ttft_s=2.0, attainment=0.99)
    eight = max_concurrency_per_copy_for_slo(SLOWING, copies=8, ttft_s=2.0, attainment=0.99)
    assert one == pytest.approx(8.15, abs=0.01)
    assert eight == pytest.approx(13.74, abs=0.01)


def test_mean_in_system_is_erlang_c_plus_the_served() -> None:
    # M/M/2 at 1 Erlang: 1 in service, 1/3 queued: 4/3 in the system, 2/3 per copy.
    assert concurrency_per_copy(1.0, 2, ONE_AT_A_TIME) == pytest.approx(2 / 3)
    assert concurrency_per_copy(2.0, 2, ONE_AT_A_TIME) == math.inf


def test_littles_law_reads_the_rate_back() -> None:
    assert arrival_rate_from_concurrency(8.0, 2, DEFAULT_COPY) == pytest.approx(10.96, abs=0.01)
    # At light load nothing queues, so the rate behind the model's concurrency is the rate.
    per_copy = concurrency_per_copy(2.0, 2, DEFAULT_COPY)
    assert arrival_rate_from_concurrency(per_copy, 2, DEFAULT_COPY) == pytest.approx(2.0, rel=1e-3)
    # A slowing copy: the service time at the mean concurrency understates the one a request
    # meets (it counts itself), so the rate comes back 5 % high: the safe side for sizing.
    per_copy = concurrency_per_copy(2.0, 2, SLOWING)
    assert arrival_rate_from_concurrency(per_copy, 2, SLOWING) == pytest.approx(2.107, abs=1e-3)


def test_copy_model_from_token_rates_and_back() -> None:
    model = CopyModel.from_token_rates(
        [6000.0, 3000.0], [25.0, 20.0], prompt_tokens=2048, output_tokens=28
    )
    assert model.prefill_s[1] == pytest.approx(0.683, abs=1e-3)
    assert model.service_s[1] == pytest.approx(2.083, abs=1e-3)
    assert CopyModel.from_dict(model.to_dict()) == model
    assert model.service_at(1.5) == pytest.approx((model.service_s[0] + model.service_s[1]) / 2)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CopyModel(2, (0.1,), (1.0, 1.0)), "one time per concurrency"),
        (lambda: CopyModel(2, (0.1, 0.1), (2.0, 1.0)), "must not fall"),
        (lambda: CopyModel(1, (0.1,), (math.nan,)), "finite"),
        (lambda: CopyModel(1, (2.0,), (1.0,)), "exceeds service_s"),
        (lambda: CopyModel(0, (), ()), "max_concurrency must be at least 1"),
    ],
)
def test_bad_copy_models_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arrival_rate": math.nan}, "arrival_rate must be a finite number"),
        ({"arrival_rate": -1.0}, "arrival_rate must be at least 0"),
        ({"attainment": 1.0}, "attainment must lie strictly between 0 and 1"),
        ({"max_copies": 0}, "max_copies must be at least 1"),
        ({"ttft_s": math.inf}, "ttft_s must be a finite number"),
    ],
)
def test_bad_sizing_input_is_refused(kwargs: dict[str, float], message: str) -> None:
    args: dict = {"arrival_rate": 1.0, "ttft_s": 2.0, "attainment": 0.99, "max_copies": 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        copies_for_slo(args.pop("arrival_rate"), ONE_AT_A_TIME, **args)


@st.composite
def copy_models(draw: st.DrawFn) -> CopyModel:
    slots = draw(st.integers(1, 6))
    service = [draw(st.floats(0.1, 5.0))]
    prefill = [draw(st.floats(0.0, 1.0)) * service[0]]
    for _ in range(slots - 1):
        service.append(service[-1] + draw(st.floats(0.0, 1.0)))
        prefill.append(min(service[-1], prefill[-1] + draw(st.floats(0.0, 0.5))))
    return CopyModel(slots, tuple(prefill), tuple(service))


rates = st.floats(0.0, 60.0)
slos = st.floats(0.05, 10.0)
targets = st.floats(0.5, 0.999)


@settings(max_examples=60, deadline=None)
@given(copy_models(), rates, rates, slos, targets, st.integers(1, 40))
def test_sizing_invariants(
    model: CopyModel, a: float, b: float, ttft: float, target: float, cap: int
) -> None:
    low, high = sorted((a, b))
    small = copies_for_slo(low, model, ttft_s=ttft, attainment=target, max_copies=cap)
    large = copies_for_slo(high, model, ttft_s=ttft, attainment=target, max_copies=cap)
    assert small.copies <= large.copies <= cap  # monotone in the rate, never above the cap
    if high > 0:
        assert large.copies >= 1
    assert 0.0 <= large.attainment <= 1.0
    if large.met:
        assert large.attainment >= target
        if large.copies > 1:  # the fewest: one copy fewer falls short
            fewer = slo_attainment(high, large.copies - 1, model, ttft_s=ttft)
            assert fewer < target


@settings(max_examples=60, deadline=None)
@given(copy_models(), rates, slos, st.integers(1, 12))
def test_more_copies_never_lower_attainment(
    model: CopyModel, rate: float, ttft: float, copies: int
) -> None:
    fewer = slo_attainment(rate, copies, model, ttft_s=ttft)
    assert slo_attainment(rate, copies + 1, model, ttft_s=ttft) >= fewer - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-1.0, 1e6))
def test_any_rate_is_sized_or_refused(rate: float, ttft: float) -> None:
    try:
        sized = copies_for_slo(rate, ONE_AT_A_TIME, ttft_s=ttft, attainment=0.9, max_copies=50)
    except ValueError:
        assert not (math.isfinite(rate) and rate >= 0 and ttft >= 0)
        return
    assert 0 <= sized.copies <= 50
    assert math.isfinite(sized.attainment)


def test_threshold_copies_hold_the_threshold_in_flight_each() -> None:
    # 20 requests/s at 1.46 s each are 29.2 in flight: 4 copies of 8; 16 exactly fill 2.
    assert threshold_copies(20.0, 8.0, DEFAULT_COPY) == 4
    assert threshold_copies(16 / 1.46, 8.0, DEFAULT_COPY) == 2
    assert threshold_copies(0.0, 8.0, DEFAULT_COPY) == 0
    # The service time is read at the threshold: a copy that slows under load needs more.
    assert threshold_copies(20.0, 8.0, SLOWING) >= threshold_copies(20.0, 8.0, DEFAULT_COPY)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        threshold_copies(1.0, 0.0, DEFAULT_COPY)
