"""Copies for a time-to-first-token SLO, from the arrival rate and how a copy slows under load.

The model (stated so it can be checked):

* Requests arrive as a Poisson stream of rate ``λ`` and each needs an exponentially distributed
  amount of work: the classic assumptions behind Erlang's formulas.
* ``c`` copies each serve up to ``m`` requests at once (``CopyModel.max_concurrency``). With
  ``n`` requests sharing it a copy completes them at ``n / service_s[n - 1]`` per second
  (batching: the throughput rises, each request slows down).
* ``LEAST_OUTSTANDING_REQUESTS`` routing over equal copies behaves like one FIFO queue in front
  of ``c x m`` slots that keeps the copies balanced: with ``k`` requests in the system, ``k mod
  c`` copies hold ``k // c + 1`` and the others ``k // c``.
* That makes the number in the system a birth-death chain: birth rate ``λ``, death rate the sum
  of the copies' completion rates. Past ``c x m`` the death rate is constant,
  ``μ = c x m / service_s[m - 1]``, so the tail is geometric with ratio ``ρ = λ / μ`` (it is
  Erlang C's M/M/N with a load-dependent service rate below N). Stable only when ``ρ < 1``.
* An arrival sees the stationary distribution (PASTA). Finding ``k < c x m`` it starts at once
  at concurrency ``k // c + 1`` and its first token comes after ``prefill_s[k // c]``. Finding
  ``k >= c x m`` it waits; as in Erlang C the wait of a waiting request is exponential with rate
  ``μ - λ``, then its prefill runs at full concurrency ``m``. Its time to first token is within
  ``ttft_s`` with probability ``1 - exp(-(μ - λ)(ttft_s - prefill_s[m - 1]))``.
* Prefill is taken at the concurrency the request meets on arrival, not averaged over changes
  during it.

Worked numbers, one request at a time per copy (``m = 1``, textbook M/M/c): ``λ = 1``/s, service
1 s, prefill 0.2 s, SLO 2 s. Two copies: Erlang C gives a wait probability of 1/3, the wait
exceeds 1.8 s with probability (1/3) e^(-1.8) = 0.055: attainment 0.945. Three copies: wait
probability 1/11, (1/11) e^(-3.6) = 0.0025: attainment 0.9975. So 0.99 needs 3 copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .checks import count, finite, fraction
from .copy_model import CopyModel

_BISECTIONS = 60  # halvings of the arrival-rate interval: far below any rate that matters


def _completion_rate(in_system: int, copies: int, model: CopyModel) -> float:
    """Requests per second the copies complete with ``in_system`` requests (balanced)."""
    if in_system >= copies * model.max_concurrency:
        return copies * model.max_concurrency / model.service_s[-1]
    each, fuller = divmod(in_system, copies)
    rate = fuller * (each + 1) / model.service_s[each]
    if each:
        rate += (copies - fuller) * each / model.service_s[each - 1]
    return rate


def _distribution(
    arrival_rate: float, copies: int, model: CopyModel
) -> tuple[list[float], float] | None:
    """Probabilities of 0 .. c x m - 1 requests in the system, and of c x m or more (waiting);
    None when the copies cannot keep up (``ρ >= 1``)."""
    slots = copies * model.max_concurrency
    rho = arrival_rate / _completion_rate(slots, copies, model)
    if rho >= 1:
        return None
    log_weights = [0.0]  # log of P(k) / P(0), summed in logs: the ratios overflow floats
    log_rate = math.log(arrival_rate)
    for k in range(1, slots + 1):
        log_weights.append(
            log_weights[-1] + log_rate - math.log(_completion_rate(k, copies, model))
        )
    peak = max(log_weights)
    weights = [math.exp(w - peak) for w in log_weights]
    waiting = weights.pop() / (1 - rho)  # P(k >= slots): a geometric tail of ratio rho
    total = math.fsum(weights) + waiting
    return [w / total for w in weights], waiting / total


def _check(arrival_rate: float, copies: int) -> float:
    count("copies", copies)
    return finite("arrival_rate", arrival_rate, minimum=0)


def slo_attainment(arrival_rate: float, copies: int, model: CopyModel, *, ttft_s: float) -> float:
    """Share of requests whose first token comes within ``ttft_s``, in steady state.

    The module docstring's two-copy example: ``slo_attainment(1.0, 2, CopyModel.constant(1,
    0.2, 1.0), ttft_s=2.0)`` is 0.945. No load: 1.0 if an idle copy's prefill fits the SLO,
    else 0.0. Copies that cannot keep up (or none at all under load): 0.0.
    """
    rate = _check(arrival_rate, copies)
    ttft = finite("ttft_s", ttft_s, minimum=0)
    if rate == 0:
        return 1.0 if copies == 0 or model.prefill_s[0] <= ttft else 0.0
    if copies == 0:
        return 0.0
    found = _distribution(rate, copies, model)
    if found is None:
        return 0.0
    starts, waiting = found
    met = math.fsum(p for k, p in enumerate(starts) if model.prefill_s[k // copies] <= ttft)
    budget = ttft - model.prefill_s[-1]
    if budget > 0:
        drain = _completion_rate(copies * model.max_concurrency, copies, model) - rate
        met += waiting * -math.expm1(-drain * budget)
    return min(1.0, met)


def concurrency_per_copy(arrival_rate: float, copies: int, model: CopyModel) -> float:
    """Mean requests in the system per copy, queued ones included: the model's
    ``ConcurrentRequestsPerCopy``. Infinite when the copies cannot keep up.

    ``m = 1``, service 1 s, ``λ = 1``/s on 2 copies (M/M/2, load 1 Erlang): 1 in service and
    Erlang C's 1/3 queued on average, 4/3 in the system, 0.667 per copy.
    """
    rate = _check(arrival_rate, copies)
    if rate == 0:
        return 0.0
    if copies == 0:
        return math.inf
    found = _distribution(rate, copies, model)
    if found is None:
        return math.inf
    starts, waiting = found
    slots = len(starts)
    rho = rate / _completion_rate(slots, copies, model)
    # The tail P(slots + j) = P(>= slots)(1 - rho) rho^j has mean slots + rho / (1 - rho).
    in_system = math.fsum(k * p for k, p in enumerate(starts)) + waiting * (slots + rho / (1 - rho))
    return in_system / copies


def arrival_rate_from_concurrency(
    concurrency_per_copy: float, copies: int, model: CopyModel
) -> float:
    """Requests per second behind an observed ``ConcurrentRequestsPerCopy`` (Little's law).

    ``λ = copies x n / service_at(n)``: 2 copies at 8 per copy with a constant 1.46 s service
    time carry 2 x 8 / 1.46 = 11.0 requests/s. Above ``max_concurrency`` the extra requests are
    queued; they are counted as if they were being served at full concurrency, which is the
    rate that would keep them all in service with no wait (more than the copies complete, less
    than arrived if the queue is old: prefer ``Invocations`` when it is available).
    """
    count("copies", copies)
    n = finite("concurrency_per_copy", concurrency_per_copy, minimum=0)
    return copies * n / model.service_at(n)


def threshold_copies(arrival_rate: float, threshold: float, model: CopyModel) -> int:
    """Copies that hold ``threshold`` requests in flight each at ``arrival_rate`` (Little's law
    at the threshold's service time): what the scale-out threshold asks for at that rate.

    20 requests/s, threshold 8, 2.79 s of service at 8 in flight: 55.8 in flight, 7 copies.
    """
    rate = finite("arrival_rate", arrival_rate, minimum=0)
    level = finite("threshold", threshold)
    if level <= 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    return math.ceil(rate * model.service_at(level) / level - 1e-9)


@dataclass(frozen=True)
class SloSizing:
    """Copies for the SLO, the attainment they reach, and whether that meets the target."""

    copies: int
    attainment: float
    met: bool


def copies_for_slo(
    arrival_rate: float,
    model: CopyModel,
    *,
    ttft_s: float,
    attainment: float,
    max_copies: int,
) -> SloSizing:
    """The fewest copies (at most ``max_copies``) whose SLO attainment reaches ``attainment``.

    More copies never lower attainment (each request meets fewer others on its copy and every
    state drains at least as fast), so the search steps up from the fewest copies that keep up,
    ``floor(λ x service_s[m - 1] / m) + 1``, doubling its stride, then bisects.

    ``λ = 1``/s, ``m = 1``, service 1 s, prefill 0.2 s, SLO 2 s at 0.99: 2 copies reach 0.945,
    3 reach 0.9975, so 3. The copy of 16 that slows 10 % per extra request (service 1.46 s alone,
    3.65 s at 16; prefill 0.34 s to 0.85 s) at ``λ = 25``/s: 6 copies keep up (6 x 16 / 3.65 =
    26.3/s) but reach 0.924; 7 reach 0.99999 at 10.0 requests per copy (fixed-speed copies
    would need 3: ignoring the slowdown undersizes by 4). When even ``max_copies`` falls short
    the answer is ``max_copies`` with ``met=False``; with no load it is 0 copies.
    """
    rate = _check(arrival_rate, 0)
    finite("ttft_s", ttft_s, minimum=0)
    target = fraction("attainment", attainment)
    count("max_copies", max_copies, minimum=1)

    def reached(copies: int) -> float:
        return slo_attainment(rate, copies, model, ttft_s=ttft_s)

    if rate == 0:
        return SloSizing(0, reached(0), True)
    full = model.max_concurrency / model.service_s[-1]  # one copy's most requests/s
    low = max(1, math.floor(rate / full) + 1)
    if low > max_copies:
        return SloSizing(max_copies, reached(max_copies), False)
    stride, high = 1, low
    while (got := reached(high)) < target:
        if high == max_copies:
            return SloSizing(max_copies, got, False)
        low, high, stride = high + 1, min(max_copies, high + stride), stride * 2
    best = got
    while low < high:  # reached(high) >= target; every copy count below low falls short
        middle = (low + high) // 2
        if (got := reached(middle)) >= target:
            high, best = middle, got
        else:
            low = middle + 1
    return SloSizing(high, best, True)


def max_concurrency_per_copy_for_slo(
    model: CopyModel, *, copies: int, ttft_s: float, attainment: float
) -> float:
    """The highest ``ConcurrentRequestsPerCopy`` at which ``copies`` copies still meet the SLO:
    where a scale-out alarm on that metric should sit.

    Found by bisecting on the arrival rate (attainment falls as it rises) and reading the mean
    in the system at the highest rate that meets the SLO. ``m = 1``, service 1 s, prefill 0.2 s,
    SLO 2 s at 0.99 on 3 copies: the rate can rise to 1.363/s, where each copy holds 0.507
    requests on average. A copy of 16 that slows 10 % per extra request (service 1.46 s alone,
    3.65 s at 16, prefill 0.34 s to 0.85 s), SLO 2 s at 0.99: 8.15 per copy for 1 copy, 10.37
    for 2, 13.74 for 8 (more copies pool their queues). 0.0 when even an idle copy's prefill
    misses the SLO.
    """
    count("copies", copies, minimum=1)
    finite("ttft_s", ttft_s, minimum=0)
    target = fraction("attainment", attainment)
    if model.prefill_s[0] > ttft_s:
        return 0.0
    low, high = 0.0, copies * model.max_concurrency / model.service_s[-1]
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if slo_attainment(middle, copies, model, ttft_s=ttft_s) >= target:
            low = middle
        else:
            high = middle
    return concurrency_per_copy(low, copies, model)
