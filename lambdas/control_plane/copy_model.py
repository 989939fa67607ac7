"""How fast one copy serves a typical request at each concurrency, as plain data.

The fleet file states a copy's token rates (the simulator's copy model gives them per
concurrency); the synth turns them, with the fleet's typical prompt and output lengths, into a
``CopyModel`` that travels in the scaling spec as JSON. The sizing rules read only this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .checks import count, finite, positive


@dataclass(frozen=True)
class CopyModel:
    """A typical request's times on one copy, by how many requests share the copy.

    ``prefill_s[n - 1]`` is the time to its first token and ``service_s[n - 1]`` its whole time
    in service when ``n`` requests share the copy (``n`` counts the request itself). Sharing
    never makes a request faster, so both are non-decreasing in ``n``; a copy's throughput at
    ``n`` is ``n / service_s[n - 1]`` requests per second.

    The default fleet's fixed rates (6000 prompt and 25 output tokens/s, a 2048-token prompt
    and 28 output tokens): prefill 2048 / 6000 = 0.34 s, service 0.34 + 28 / 25 = 1.46 s at
    every concurrency up to 16, so a full copy completes 16 / 1.46 = 11 requests/s.
    """

    max_concurrency: int
    prefill_s: tuple[float, ...]
    service_s: tuple[float, ...]

    def __post_init__(self) -> None:
        count("max_concurrency", self.max_concurrency, minimum=1)
        for name, times in (("prefill_s", self.prefill_s), ("service_s", self.service_s)):
            if len(times) != self.max_concurrency:
                raise ValueError(
                    f"{name} must hold one time per concurrency 1..{self.max_concurrency}, "
                    f"got {len(times)}"
                )
            for n, seconds in enumerate(times, start=1):
                if name == "service_s":
                    positive(f"{name} at concurrency {n}", seconds)
                else:
                    finite(f"{name} at concurrency {n}", seconds, minimum=0)
            for n in range(1, len(times)):
                if times[n] < times[n - 1]:
                    raise ValueError(
                        f"{name} must not fall as concurrency rises: {times[n - 1]} s at {n}, "
                        f"{times[n]} s at {n + 1}"
                    )
        for n, (prefill, service) in enumerate(
            zip(self.prefill_s, self.service_s, strict=True), start=1
        ):
            if prefill > service:
                raise ValueError(
                    f"prefill_s ({prefill} s) exceeds service_s ({service} s) at concurrency {n}"
                )

    @classmethod
    def constant(cls, max_concurrency: int, prefill_s: float, service_s: float) -> CopyModel:
        """A copy whose speed does not depend on its load (the fleet's fixed token rates)."""
        return cls(max_concurrency, (prefill_s,) * max_concurrency, (service_s,) * max_concurrency)

    @classmethod
    def from_token_rates(
        cls,
        prefill_tokens_per_s: Sequence[float],
        decode_tokens_per_s: Sequence[float],
        *,
        prompt_tokens: float,
        output_tokens: float,
    ) -> CopyModel:
        """From one request's token rates at concurrency 1, 2, ... (index ``n - 1``).

        At concurrency 4 with 3000 prompt and 20 output tokens/s per request, a 2048-token
        prompt and 28 output tokens: prefill 0.683 s, service 0.683 + 1.4 = 2.083 s.
        """
        prompt = finite("prompt_tokens", prompt_tokens, minimum=0)
        output = finite("output_tokens", output_tokens, minimum=0)
        if len(prefill_tokens_per_s) != len(decode_tokens_per_s):
            raise ValueError(
                f"prefill and decode rates must cover the same concurrencies, got "
                f"{len(prefill_tokens_per_s)} and {len(decode_tokens_per_s)}"
            )
        prefill, service = [], []
        for n, (p_rate, d_rate) in enumerate(
            zip(prefill_tokens_per_s, decode_tokens_per_s, strict=True), start=1
        ):
            first = prompt / positive(f"prefill_tokens_per_s at concurrency {n}", p_rate)
            prefill.append(first)
            service.append(
                first + output / positive(f"decode_tokens_per_s at concurrency {n}", d_rate)
            )
        return cls(len(prefill), tuple(prefill), tuple(service))

    def service_at(self, concurrency: float) -> float:
        """Service time at a fractional concurrency: linear between whole ones, flat outside."""
        n = min(max(concurrency, 1.0), float(self.max_concurrency))
        low = int(n)
        if low == self.max_concurrency:
            return self.service_s[-1]
        share = n - low
        return self.service_s[low - 1] * (1 - share) + self.service_s[low] * share

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_concurrency": self.max_concurrency,
            "prefill_s": list(self.prefill_s),
            "service_s": list(self.service_s),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CopyModel:
        return cls(
            int(raw["max_concurrency"]),
            tuple(float(x) for x in raw["prefill_s"]),
            tuple(float(x) for x in raw["service_s"]),
        )
