"""One inference component as the simulator sees it: its model, its endpoint, its cold starts and
how fast one copy serves at each concurrency (``config.serving``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from config.coldstart import Phases, cold_start
from config.fleet import Endpoint, Fleet, Model
from config.serving import copy_speed


class Speed(Protocol):
    """``config.serving.CopySpeed``: one request's rates when ``concurrency`` requests share a
    copy."""

    @property
    def max_concurrency(self) -> int: ...

    def prefill_tokens_per_s(self, concurrency: int) -> float: ...

    def decode_tokens_per_s(self, concurrency: int) -> float: ...


@dataclass(frozen=True)
class Component:
    """The inference component being simulated and the physics around it."""

    endpoint: Endpoint
    model: Model
    slo_ttft_s: float
    paths: dict[str, Phases]
    speed: Speed = field(default=None)  # type: ignore[assignment]  # None: config.serving's

    def __post_init__(self) -> None:
        if self.speed is None:
            object.__setattr__(self, "speed", copy_speed(self.endpoint.instance_type, self.model))

    @classmethod
    def from_fleet(
        cls, fleet: Fleet, endpoint: str | None = None, model: str | None = None
    ) -> Component:
        """The named (or first) model of the named (or first) endpoint of ``fleet``."""
        ep = fleet.endpoints[0] if endpoint is None else fleet.endpoint(endpoint)
        if model is None:
            return cls.of(fleet, ep, ep.models[0])
        found = [x for x in ep.models if x.name == model]
        if not found:
            raise KeyError(
                f"endpoint {ep.name} has no model {model!r}; it has {[x.name for x in ep.models]}"
            )
        return cls.of(fleet, ep, found[0])

    @classmethod
    def of(cls, fleet: Fleet, endpoint: Endpoint, model: Model) -> Component:
        paths = cold_start(endpoint.instance_type, image_gb=model.image_gb, model_gb=model.model_gb)
        return cls(endpoint, model, fleet.slo_ttft_s, paths)

    @property
    def name(self) -> str:
        return self.model.component_name

    @property
    def max_concurrency(self) -> int:
        return self.speed.max_concurrency

    def rates(self) -> tuple[list[float], list[float]]:
        """Prefill and decode tokens/s of one request, indexed by the copy's concurrency
        (index 0 unused)."""
        n = self.max_concurrency
        prefill = [0.0] + [self.speed.prefill_tokens_per_s(c) for c in range(1, n + 1)]
        decode = [0.0] + [self.speed.decode_tokens_per_s(c) for c in range(1, n + 1)]
        return prefill, decode

    def ready_s(self, path: str, *, container_cache: bool, data_cache: bool) -> float:
        """Seconds until a copy on ``path`` serves, for a policy's cache settings.

        Without the container cache every new instance pulls the image; without the data cache
        (or on a running instance that never held this model) a copy on a running instance still
        downloads the model (the image is on that instance).
        """
        p = self.paths
        if path == "warm_instance":
            if data_cache:
                return p["warm_instance"].total_s
            return p["warm_instance"].total_s + p["cached"].model_download_s
        if path == "cached" and container_cache:
            return p["cached"].total_s
        return p["uncached"].total_s
