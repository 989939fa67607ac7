"""The environment of a control-plane function, parsed once per execution environment."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import contract
from .decision import ScalingSpec

# The folder that holds the ``control_plane`` package: ``/var/task`` on Lambda.
CODE_ROOT = Path(__file__).resolve().parent.parent


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
    source, raw = _components_document(env, need)
    try:
        decoded: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{source} is not JSON: {exc}") from None
    if not isinstance(decoded, dict) or not decoded:
        raise SettingsError(
            f"{source} must be a non-empty JSON object {{component: {{spec, image, model}}}}"
        )
    components: dict[str, Component] = {}
    for name, entry in decoded.items():
        try:
            spec = ScalingSpec.from_dict(entry["spec"])
            image, model = str(entry["image"]), str(entry["model"])
        except (KeyError, TypeError) as exc:
            raise SettingsError(f"{source}[{name!r}] needs spec, image and model: {exc}") from None
        if spec.component != name or spec.endpoint != endpoint:
            raise SettingsError(
                f"{source}[{name!r}] is for {spec.endpoint}/{spec.component}, not {endpoint}/{name}"
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


def _components_document(env: Mapping[str, str], need: Callable[[str], str]) -> tuple[str, str]:
    """``(where it came from, JSON text)`` of the components document.

    The file named by ``COMPONENTS_FILE`` (the stacks bundle it with the code: a relative path
    is under the code root, ``/var/task`` on Lambda), or else the inline ``COMPONENTS``.
    """
    name = env.get(contract.ENV_COMPONENTS_FILE, "").strip()
    if not name:
        return contract.ENV_COMPONENTS, need(contract.ENV_COMPONENTS)
    path = CODE_ROOT / name  # an absolute name replaces the root
    source = f"{contract.ENV_COMPONENTS_FILE} ({path})"
    try:
        return source, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{source} cannot be read: {exc}") from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """This execution environment's settings (tests clear the cache between set-ups)."""
    return parse_settings(os.environ)
