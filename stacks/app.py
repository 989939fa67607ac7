"""Build the CDK app of a fleet: the shared control-plane stack and one stack per endpoint.

Every synth runs cdk-nag's AwsSolutions checks (registered as a CDK validation plugin, which
stops the synth on any unacknowledged finding); ``stacks.cfn_lint`` then lints the templates.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from config.fleet import Fleet
from config.specs import scaling_spec

from .assets import powertools_release
from .components import (
    ImageFor,
    SpecFor,
    components_document,
    default_image_for,
    encode_components,
)
from .control_plane import ControlPlaneStack
from .endpoint import EndpointStack

ROOT = Path(__file__).resolve().parent.parent
STACK_PREFIX = "SageMakerFastScale"
# Synth must work without AWS credentials: stacks then carry the account as a CloudFormation
# pseudo parameter, and the region comes from the fleet file.
CONTROL_PLANE_STACK = f"{STACK_PREFIX}-ControlPlane"


def endpoint_stack_name(endpoint_name: str) -> str:
    return f"{STACK_PREFIX}-{endpoint_name}"


def cdk_context() -> dict[str, Any]:
    """The feature flags of cdk.json, so that tests synthesize what ``cdk synth`` does."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@dataclass
class FleetApp:
    app: cdk.App
    control_plane: ControlPlaneStack
    endpoints: dict[str, EndpointStack]

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.control_plane, *self.endpoints.values()]


def build_app(
    fleet: Fleet,
    *,
    app: cdk.App | None = None,
    outdir: str | None = None,
    spec_for: SpecFor = scaling_spec,
    image_for: ImageFor = default_image_for,
) -> FleetApp:
    """All stacks of ``fleet`` in ``app`` (a new one with cdk.json's context if not given).

    Raises ``ConfigError`` before any construct is made if an endpoint cannot be deployed, and
    ``AssetError`` if the installed Powertools release is not the pinned one.
    """
    # Everything that can reject the fleet runs first: nothing half-built on an error.
    documents = {
        e.name: encode_components(
            components_document(e, region=fleet.region, spec_for=spec_for, image_for=image_for)
        )
        for e in fleet.endpoints
    }
    powertools = powertools_release()
    images = {m.component_name: image_for(m, fleet.region) for m in fleet.models}

    if app is None:
        app = cdk.App(context=cdk_context(), outdir=outdir)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=fleet.region)
    tags = {"project": STACK_PREFIX}

    control_plane = ControlPlaneStack(
        app,
        CONTROL_PLANE_STACK,
        env=env,
        tags=tags,
        description="SageMaker fast scaling: shared scaling-state table",
        notifications=fleet.control_plane.notifications,
    )
    endpoints: dict[str, EndpointStack] = {}
    for endpoint in fleet.endpoints:
        endpoints[endpoint.name] = EndpointStack(
            app,
            endpoint_stack_name(endpoint.name),
            env=env,
            tags={**tags, "endpoint": endpoint.name},
            description=f"SageMaker fast scaling: endpoint {endpoint.name}, its inference "
            "components, alarms and control plane",
            endpoint=endpoint,
            control_plane=fleet.control_plane,
            table=control_plane.table,
            images={m.component_name: images[m.component_name] for m in endpoint.models},
            components_json=documents[endpoint.name],
            powertools=powertools,
        )
    return FleetApp(app, control_plane, endpoints)
