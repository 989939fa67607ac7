"""What the control-plane functions of one endpoint are told about its inference components:
the components document, which the stacks bundle with the functions' code.

Pure: no aws_cdk here, so the size rule is testable in milliseconds and the summary can reuse it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from config.fleet import ConfigError, Endpoint, Fleet, Model, resolve_image
from config.specs import scaling_spec
from lambdas.control_plane import contract
from lambdas.control_plane.decision import ScalingSpec

SpecFor = Callable[[Endpoint, Model], ScalingSpec]
ImageFor = Callable[[Model, str], str]


def default_image_for(model: Model, region: str) -> str:
    """The model's ECR image URI in ``region`` (framework images resolved offline)."""
    return resolve_image(model.image, region)


def components_document(
    endpoint: Endpoint,
    *,
    region: str,
    spec_for: SpecFor = scaling_spec,
    image_for: ImageFor = default_image_for,
) -> dict[str, dict[str, Any]]:
    """``{component name: {"spec": ScalingSpec dict, "image": ECR URI, "model": model name}}``."""
    return {
        m.component_name: {
            "spec": spec_for(endpoint, m).to_dict(),
            "image": image_for(m, region),
            "model": m.model_resource_name,
        }
        for m in endpoint.models
    }


def encode_components(document: Mapping[str, Any]) -> str:
    """Compact, key-sorted JSON: the bytes counted against Lambda's environment limit."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def forecast_interval_minutes(endpoint: Endpoint) -> int | None:
    """How often the endpoint's forecaster runs: the shortest interval of its models that
    forecast (each model still looks ahead by its own interval); ``None`` when none does."""
    intervals = [
        m.scaling.forecast.interval_minutes for m in endpoint.models if m.scaling.forecast.enabled
    ]
    return min(intervals) if intervals else None


def components_env(
    fleet: Fleet,
    endpoint: Endpoint,
    *,
    spec_for: SpecFor = scaling_spec,
    image_for: ImageFor = default_image_for,
) -> str:
    """The document as an inline ``COMPONENTS`` environment value, for local runs.

    The stacks ship the document as a file in the functions' code (``stacks.assets``); a local
    run (the demo) may pass it inline instead. Lambda allows 4 KB of environment in all;
    ``contract.ENV_COMPONENTS_MAX_BYTES`` (3328) is this variable's share. One component takes
    about 1,035 bytes (a 900-byte spec, most of it the copy model's 16 times per concurrency;
    an 81-byte image URI, the model name and keys), so about 3 models fit; beyond that this
    stops with a ``ConfigError``.
    """
    document = components_document(
        endpoint, region=fleet.region, spec_for=spec_for, image_for=image_for
    )
    encoded = encode_components(document)
    size_bytes = len(encoded.encode("utf-8"))
    if size_bytes > contract.ENV_COMPONENTS_MAX_BYTES:
        per_model_bytes = size_bytes / len(endpoint.models)
        fits = max(1, int(contract.ENV_COMPONENTS_MAX_BYTES // per_model_bytes))
        index = fleet.endpoints.index(endpoint)
        raise ConfigError(
            f"{fleet.source}: endpoints[{index}] ({endpoint.name}): its {len(endpoint.models)} "
            f"models need {size_bytes} bytes of {contract.ENV_COMPONENTS} in the control-plane "
            f"functions' environment, over the {contract.ENV_COMPONENTS_MAX_BYTES}-byte share of "
            f"Lambda's 4 KB limit; allowed: about {fits} models per endpoint (split the models "
            "over more endpoints)"
        )
    return encoded
