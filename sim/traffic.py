"""Request traffic: the bundled Azure code trace, any CSV in its format, and synthetic scenarios.

A workload is three aligned arrays (arrival time, prompt tokens, output tokens), sorted by
arrival. Synthetic scenarios draw arrivals from a Poisson process whose rate follows the
scenario's shape, and draw token counts from the Azure trace, so every scenario has the mix of
long prompts and short answers real code-completion traffic has. All randomness comes from one
seeded generator: the same seed gives the same workload. ``multi-model`` is the one scenario
that gives an endpoint's components one workload each (``multi_model``).

``HOLDOUT`` names the held-out scenarios (``sim.holdout``): shapes the project's default setting
was never tuned on; a change to the project's policy must not be tuned against them. They are
registered here like the others (``SCENARIOS``, and ``azure-code-half`` as a scaled trace).

Service time of a request on one copy (``service_time_s``) is prefill plus decode::

    service_s = prompt_tokens / prefill_tokens_per_s + output_tokens / decode_tokens_per_s

With the default fleet's 6000 and 25 tokens/s, a 2048-token prompt with 28 output tokens takes
0.34 + 1.12 = 1.46 s, the Azure trace's mean.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .holdout import HOLDOUT as HOLDOUT  # the held-out names, for users of this module
from .holdout import SCALED_TRACES, SHAPES, Shape

TRACES_DIR = Path(__file__).with_name("traces")
TRACES = {"azure-code": TRACES_DIR / "AzureLLMInferenceTrace_code.csv"}

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Workload:
    """Requests sorted by arrival; ``name`` says where they came from."""

    name: str
    arrival_s: FloatArray
    prompt_tokens: FloatArray
    output_tokens: FloatArray
    duration_s: float

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    def service_time_s(self, prefill_tokens_per_s: float, decode_tokens_per_s: float) -> FloatArray:
        """Seconds each request keeps one of a copy's concurrency slots."""
        return self.prompt_tokens / prefill_tokens_per_s + self.output_tokens / decode_tokens_per_s

    def scaled(self, load: float, seed: int) -> Workload:
        """The same traffic at ``load`` times the request rate, bursts kept where they are.

        Each request is repeated ``floor(load)`` times, plus once more with probability equal to
        the fraction, each repeat shifted by up to one second: load 2.5 turns 100 requests in a
        minute into about 250 in the same minute. ``load`` below 1 thins the trace.
        """
        if not (math.isfinite(load) and load > 0):
            raise ValueError(f"load must be a number > 0; got {load!r}")
        if load == 1:
            return self
        rng = np.random.default_rng(seed)
        whole = int(load)
        repeats = np.full(len(self), whole) + (rng.random(len(self)) < load - whole)
        idx = np.repeat(np.arange(len(self)), repeats)
        jitter = rng.random(idx.size)
        first = np.r_[0, np.cumsum(repeats)[:-1]]
        is_first = np.zeros(idx.size, dtype=bool)
        is_first[first[repeats > 0]] = True
        jitter[is_first] = 0.0
        arrival = np.minimum(self.arrival_s[idx] + jitter, self.duration_s)
        order = np.argsort(arrival, kind="stable")
        return Workload(
            f"{self.name} x{load:g}",
            arrival[order],
            self.prompt_tokens[idx][order],
            self.output_tokens[idx][order],
            self.duration_s,
        )


def load_trace(path: str | Path) -> Workload:
    """Read a CSV with ``TIMESTAMP, ContextTokens, GeneratedTokens`` (the Azure LLM trace format).

    Times become seconds from the first request.
    """
    source = Path(path)
    try:
        with source.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            expected = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]
            if header is None or [h.strip() for h in header] != expected:
                raise ValueError(f"{source}: header must be {','.join(expected)}; got {header}")
            stamps: list[float] = []
            prompts: list[float] = []
            outputs: list[float] = []
            for line, row in enumerate(reader, start=2):
                try:
                    # The trace has 7 fractional digits; fromisoformat (3.11+) reads them.
                    # Times without a zone are UTC (not local time, which would shift a
                    # trace that spans a daylight-saving change by an hour).
                    stamp = datetime.fromisoformat(row[0].strip())
                    if stamp.tzinfo is None:
                        stamp = stamp.replace(tzinfo=UTC)
                    stamps.append(stamp.timestamp())
                    prompts.append(float(row[1]))
                    outputs.append(float(row[2]))
                except (ValueError, IndexError):
                    raise ValueError(
                        f"{source}:{line}: expected TIMESTAMP,ContextTokens,"
                        f"GeneratedTokens; got {row}"
                    ) from None
    except OSError as exc:
        raise ValueError(f"{source}: cannot read the trace: {exc.strerror}") from None
    if not stamps:
        raise ValueError(f"{source}: the trace has no requests")
    arrival = np.asarray(stamps, dtype=np.float64)
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order] - arrival[order][0]
    return Workload(
        source.stem,
        arrival,
        np.asarray(prompts)[order],
        np.asarray(outputs)[order],
        float(arrival[-1]) + 1.0,
    )


# --- Synthetic scenarios -------------------------------------------------------------------
# Rates in requests per second. At the trace's mean service time of 1.46 s, 2 req/s keep about
# 3 requests in flight (well inside one copy at a threshold of 8) and 25 req/s about 36, which
# needs 5 copies at the default threshold of 8 per copy and 3 copies just to avoid queueing.

RateFn = Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    default_duration_s: float
    arrivals: Callable[[float, np.random.Generator], FloatArray]  # duration, rng -> sorted times
    peak_rate: float  # requests per second at the busiest


def step_spike_window_s(duration_s: float) -> tuple[float, float]:
    """When the step-spike scenario's high rate starts and ends (1/6 and 1/2 of the run)."""
    return duration_s / 6, duration_s / 6 + duration_s / 3


def _step_spike(duration_s: float) -> RateFn:
    start, end = step_spike_window_s(duration_s)
    return lambda t: np.where((t >= start) & (t < end), 25.0, 2.0)


def _ramp(duration_s: float) -> RateFn:
    ramp_s = duration_s * 2 / 3
    return lambda t: 1.0 + 24.0 * np.clip(t / ramp_s, 0.0, 1.0)


def _diurnal(duration_s: float) -> RateFn:
    # Quiet at midnight (1 req/s), peak at noon (12 req/s).
    return lambda t: 1.0 + 11.0 * (1 - np.cos(2 * np.pi * t / 86_400.0)) / 2


def _poisson(
    rate: Callable[[float], RateFn], peak: float
) -> Callable[[float, np.random.Generator], FloatArray]:
    """Arrivals of a Poisson process whose rate over a run of ``duration`` is ``rate(duration)``."""
    return lambda duration, rng: _thinned(rate(duration), peak, duration, rng)


@functools.cache
def _token_pool() -> tuple[FloatArray, FloatArray]:
    """The Azure trace's token counts (read once per process; callers only index them)."""
    trace = load_trace(TRACES["azure-code"])
    for tokens in (trace.prompt_tokens, trace.output_tokens):
        tokens.flags.writeable = False
    return trace.prompt_tokens, trace.output_tokens


THINNING_CHUNK = 1 << 16  # candidates per rate evaluation: temporaries stay in the CPU's cache


def _thinned(rate: RateFn, peak: float, duration_s: float, rng: np.random.Generator) -> FloatArray:
    """Arrivals of a Poisson process with rate ``rate(t) <= peak``, by thinning.

    The rate is evaluated a chunk of candidates at a time (an elementwise function: the same
    values as one call over all of them, in a fraction of the time for a week's 10 million).
    """
    n = rng.poisson(peak * duration_s)
    candidates = np.sort(rng.random(n) * duration_s)
    keep = rng.random(n) * peak
    for k in range(0, n, THINNING_CHUNK):
        part = slice(k, k + THINNING_CHUNK)
        keep[part] = keep[part] < rate(candidates[part])
    return candidates[keep.astype(bool)]


def _bursty(duration_s: float, rng: np.random.Generator) -> FloatArray:
    """A two-state modulated Poisson process: calm (mean 10 min) and burst (mean 2 min)."""
    edges: list[tuple[float, float]] = []
    t, bursting = 0.0, False
    while t < duration_s:
        length = rng.exponential(120.0 if bursting else 600.0)
        if bursting:
            edges.append((t, min(t + length, duration_s)))
        t += length
        bursting = not bursting
    starts = np.array([a for a, _ in edges])
    ends = np.array([b for _, b in edges])

    def rate(x: FloatArray) -> FloatArray:
        if not edges:
            return np.full_like(x, 2.0)
        i = np.searchsorted(starts, x, side="right") - 1
        inside = (i >= 0) & (x < ends[np.maximum(i, 0)])
        return np.where(inside, 20.0, 2.0)

    return _thinned(rate, 20.0, duration_s, rng)


WEEK_S = 7 * 86_400.0
WEEKDAY_PEAK, WEEKEND_PEAK, NIGHT_RATE = 12.0, 5.0, 1.0
WEEK_NOISE_SIGMA, WEEK_NOISE_CLIP = 0.15, 0.4  # hourly lognormal noise, clipped to +-40 %


def _diurnal_week(duration_s: float, rng: np.random.Generator) -> FloatArray:
    """A week from Monday 00:00: each day quiet at midnight and busiest at noon, weekdays peaking
    at 12 req/s and Saturday and Sunday at 5; every hour's rate is scaled by its own seeded
    lognormal factor (sigma 0.15, clipped to 0.6..1.4), so no two weeks look the same."""
    hours = math.ceil(duration_s / 3600.0)
    noise = np.clip(
        rng.lognormal(0.0, WEEK_NOISE_SIGMA, hours), 1 - WEEK_NOISE_CLIP, 1 + WEEK_NOISE_CLIP
    )

    def rate(t: FloatArray) -> FloatArray:
        # floor(t / day) is a whole number below 2**53: its integer remainder is the float's
        weekend = (np.floor(t / 86_400.0).astype(np.int64) % 7) >= 5
        peak = np.where(weekend, WEEKEND_PEAK, WEEKDAY_PEAK)
        day = NIGHT_RATE + (peak - NIGHT_RATE) * (1 - np.cos(2 * np.pi * t / 86_400.0)) / 2
        hour = np.minimum((t // 3600.0).astype(np.int64), hours - 1)
        return np.asarray(day * noise[hour], dtype=np.float64)

    return _thinned(rate, WEEKDAY_PEAK * (1 + WEEK_NOISE_CLIP), duration_s, rng)


SCENARIOS: dict[str, Scenario] = {
    "step-spike": Scenario(
        "step-spike",
        "2 req/s, then 25 req/s from 1/6 to 1/2 of the run",
        3600.0,
        _poisson(_step_spike, 25.0),
        25.0,
    ),
    "ramp": Scenario(
        "ramp",
        "1 req/s rising linearly to 25 req/s over 2/3 of the run, then held",
        5400.0,
        _poisson(_ramp, 25.0),
        25.0,
    ),
    "diurnal": Scenario(
        "diurnal",
        "a day: 1 req/s at midnight, 12 req/s at noon",
        86_400.0,
        _poisson(_diurnal, 12.0),
        12.0,
    ),
    "bursty": Scenario(
        "bursty",
        "2 req/s with bursts of 20 req/s (minutes long, about every 10 minutes, random)",
        7200.0,
        _bursty,
        20.0,
    ),
    "diurnal-week": Scenario(
        "diurnal-week",
        "a week from Monday: 1 req/s at night, noon peaks of 12 req/s on weekdays and 5 at the "
        "weekend, hourly noise (seeded)",
        WEEK_S,
        _diurnal_week,
        WEEKDAY_PEAK * (1 + WEEK_NOISE_CLIP),
    ),
}


def _held_out(shape: Shape) -> Callable[[float, np.random.Generator], FloatArray]:
    """Poisson arrivals at a held-out shape's rate, drawn after the shape from the same rng."""
    return lambda duration, rng: _thinned(shape.rate(duration, rng), shape.peak_rate, duration, rng)


SCENARIOS.update(
    (name, Scenario(name, s.description, s.default_duration_s, _held_out(s), s.peak_rate))
    for name, s in SHAPES.items()
)


def seeded(name: str) -> bool:
    """Whether traffic ``name`` changes with the seed (recorded traces at their rate do not)."""
    return name in SCENARIOS or name in SCALED_TRACES or name == MULTI_MODEL


def synthetic(name: str, *, seed: int, duration_s: float | None = None) -> Workload:
    """A synthetic scenario by name (``SCENARIOS``), reproducible from ``seed``."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; allowed: {', '.join(SCENARIOS)}")
    scenario = SCENARIOS[name]
    duration = scenario.default_duration_s if duration_s is None else duration_s
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be > 0 seconds; got {duration!r}")
    rng = np.random.default_rng(seed)
    arrival = scenario.arrivals(duration, rng)
    prompts, outputs = _token_pool()
    pick = rng.integers(0, prompts.size, arrival.size)
    return Workload(name, arrival, prompts[pick], outputs[pick], duration)


def workload(
    name_or_path: str, *, seed: int = 0, duration_s: float | None = None, load: float = 1.0
) -> Workload:
    """A bundled trace (``azure-code``), a scenario name, or a path to a trace CSV."""
    if name_or_path == MULTI_MODEL:
        raise ValueError(
            f"{MULTI_MODEL!r} gives each component of an endpoint its own traffic: "
            "use sim.traffic.multi_model(components, seed=...) for one workload per component"
        )
    if name_or_path in SCENARIOS:
        w = synthetic(name_or_path, seed=seed, duration_s=duration_s)
    elif (
        name_or_path in TRACES
        or name_or_path in SCALED_TRACES
        or Path(name_or_path).suffix == ".csv"
    ):
        trace, factor, _ = SCALED_TRACES.get(name_or_path, (name_or_path, 1.0, ""))
        w = load_trace(TRACES.get(trace, Path(trace)))
        if duration_s is not None:
            keep = w.arrival_s < duration_s
            w = Workload(
                w.name, w.arrival_s[keep], w.prompt_tokens[keep], w.output_tokens[keep], duration_s
            )
        if name_or_path in SCALED_TRACES:  # one scaling: the trace's factor times ``load``
            name = name_or_path if load == 1 else f"{name_or_path} x{load:g}"
            return dataclasses.replace(w.scaled(factor * load, seed), name=name)
    else:
        raise ValueError(
            f"unknown trace {name_or_path!r}; allowed: a scenario "
            f"({', '.join(SCENARIOS)}), {MULTI_MODEL!r} (one workload per component), "
            f"a bundled trace ({', '.join(TRACES)}), a scaled one ({', '.join(SCALED_TRACES)}) or "
            "a path to a .csv in the Azure LLM trace format"
        )
    return w.scaled(load, seed)


# --- Several models on one endpoint ----------------------------------------------------------
# ``multi-model``: three models with different traffic on one 4-GPU endpoint. The components of
# an endpoint take the shapes in the order the fleet file lists them (the first model gets
# ``steady``, the second ``spike``, the third ``wave``; a fourth starts over at ``steady``, with
# its own random stream). Rates suit 8B-class copies: each shape alone needs one to three copies.

MULTI_MODEL = "multi-model"
MULTI_MODEL_DURATION_S = 7200.0


def _steady(duration_s: float) -> RateFn:
    return lambda t: np.full_like(t, 6.0)


def multi_model_spike_window_s(duration_s: float) -> tuple[float, float]:
    """When the ``spike`` shape's burst runs: from 1/3 of the run for 1/6 of it."""
    return duration_s / 3, duration_s / 3 + duration_s / 6


def _spike(duration_s: float) -> RateFn:
    start, end = multi_model_spike_window_s(duration_s)
    return lambda t: np.where((t >= start) & (t < end), 15.0, 1.0)


WAVE_PERIOD_S = 1800.0


def _wave(duration_s: float) -> RateFn:
    # 0.5 to 8 req/s and back every half hour: a batch client that comes and goes.
    return lambda t: 0.5 + 7.5 * (1 - np.cos(2 * np.pi * t / WAVE_PERIOD_S)) / 2


MULTI_MODEL_SHAPES: dict[str, tuple[str, Callable[[float], RateFn], float]] = {
    "steady": ("6 req/s all the time", _steady, 6.0),
    "spike": ("1 req/s, 15 req/s from 1/3 of the run for 1/6 of it", _spike, 15.0),
    "wave": ("0.5 to 8 req/s and back every 30 minutes", _wave, 8.0),
}


def multi_model_shape(index: int) -> str:
    """The shape the ``index``-th component of an endpoint (fleet-file order, from 0) gets."""
    return list(MULTI_MODEL_SHAPES)[index % len(MULTI_MODEL_SHAPES)]


def multi_model(
    components: Sequence[str], *, seed: int, duration_s: float | None = None
) -> dict[str, Workload]:
    """One workload per component name, shaped by its position (``multi_model_shape``).

    Each component's arrivals and token counts come from its own generator derived from
    ``seed`` and its position, so the same seed gives the same traffic to every component.
    """
    if not components:
        raise ValueError("multi-model needs at least one component name; got none")
    duplicates = sorted({c for c in components if list(components).count(c) > 1})
    if duplicates:
        raise ValueError(f"component names must be distinct; repeated: {', '.join(duplicates)}")
    duration = MULTI_MODEL_DURATION_S if duration_s is None else duration_s
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be > 0 seconds; got {duration!r}")
    prompts, outputs = _token_pool()
    out: dict[str, Workload] = {}
    for index, component in enumerate(components):
        shape = multi_model_shape(index)
        _, rate, peak = MULTI_MODEL_SHAPES[shape]
        rng = np.random.default_rng([seed, index])
        arrival = _thinned(rate(duration), peak, duration, rng)
        pick = rng.integers(0, prompts.size, arrival.size)
        out[component] = Workload(
            f"{MULTI_MODEL}:{shape}", arrival, prompts[pick], outputs[pick], duration
        )
    return out
