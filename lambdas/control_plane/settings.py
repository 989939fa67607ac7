"""The environment of a control-plane function, parsed once per execution environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import contract
from .decision import ScalingSpec


class SettingsError(RuntimeError):
    """The function's environment is wrong: a deployment mistake, not a bad event."""


@dataclass(frozen=True)
class Component:
    """One inference component this function acts for."""

    name: str
    spec: ScalingSpec
    image: str
    model: str


@dataclass(frozen=True)
class Settings:
    table_name: str
    endpoint: str
    components: Mapping[str, Component]
    queue_url: str
    history_ttl_days: int

    def component(self, name: str) -> Component:
        """The component ``name`` of this endpoint; ``UnknownComponent`` otherwise."""
        from .events import UnknownComponent

        try:
            return self.components[name]
        except KeyError:
            known = ", ".join(sorted(self.components)) or "none"
            raise UnknownComponent(
                f"inference component {name!r} is not one of endpoint {self.endpoint!r}'s "
                f"(known: {known}); nothing changed"
            ) from None


def parse_settings(env: Mapping[str, str]) -> Settings:
    """Settings from an environment mapping; ``SettingsError`` names the variable at fault."""

    def need(key: str) -> str:
        value = env.get(key, "").strip()
        if not value:
            raise SettingsError(f"environment variable {key} is missing or empty")
        return value

    endpoint = need(contract.ENV_ENDPOINT_NAME)
    raw = need(contract.ENV_COMPONENTS)
    try:
        decoded: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{contract.ENV_COMPONENTS} is not JSON: {exc}") from None
    if not isinstance(decoded, dict) or not decoded:
        raise SettingsError(
            f"{contract.ENV_COMPONENTS} must be a non-empty JSON object "
            "{component: {spec, image, model}}"
        )
    components: dict[str, Component] = {}
    for name, entry in decoded.items():
        try:
            spec = ScalingSpec.from_dict(entry["spec"])
            image, model = str(entry["image"]), str(entry["model"])
        except (KeyError, TypeError) as exc:
            raise SettingsError(
                f"{contract.ENV_COMPONENTS}[{name!r}] needs spec, image and model: {exc}"
            ) from None
        if spec.component != name or spec.endpoint != endpoint:
            raise SettingsError(
                f"{contract.ENV_COMPONENTS}[{name!r}] is for {spec.endpoint}/{spec.component}, "
                f"not {endpoint}/{name}"
            )
        components[name] = Component(name, spec, image, model)
    ttl_raw = env.get(contract.ENV_HISTORY_TTL_DAYS, "30")
    try:
        ttl_days = int(ttl_raw)
    except ValueError:
        ttl_days = 0
    if ttl_days < 1:
        raise SettingsError(
            f"{contract.ENV_HISTORY_TTL_DAYS} must be a whole number of days >= 1, got {ttl_raw!r}"
        )
    return Settings(
        need(contract.ENV_TABLE_NAME),
        endpoint,
        components,
        need(contract.ENV_REEVALUATION_QUEUE_URL),
        ttl_days,
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """This execution environment's settings (tests clear the cache between set-ups)."""
    return parse_settings(os.environ)
