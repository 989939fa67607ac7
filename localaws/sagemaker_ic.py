"""Inference components for moto's SageMaker backend.

moto 5.2.5 has no inference-component API, rejects endpoint configurations without a model on
the variant, and knows none of the g5/g6/g6e/p4d/p5 instance types. ``install()`` adds, on top of
moto and without copying it:

* CreateInferenceComponent, DescribeInferenceComponent, ListInferenceComponents,
  UpdateInferenceComponentRuntimeConfig and DeleteInferenceComponent, answering with the shapes
  of botocore's service model (botocore validates the requests on the way in);
* inference-component endpoint configurations: ``ExecutionRoleArn`` on the config, a variant
  with no ``ModelName``, ``ManagedInstanceScaling`` and ``RoutingConfig`` kept and described;
* the accelerated instance types of ``config.instance_types``.

The components' state (instances, copies, which path a copy takes and when it serves) is
``localaws.inference_components.InferenceComponentControl``; ``control()`` returns the one of an
account and region, whose clock, ready delay and faults tests and the demo set.

It works in-process under ``moto.mock_aws`` and behind ``moto.server.ThreadedMotoServer`` (the
server runs in the same process, so ``control()`` reaches the same state).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import models as sm_models
from moto.sagemaker import responses as sm_responses

from config.instance_types import INSTANCE_TYPES

from .inference_components import InferenceComponentControl

# Instance types moto 5.2.5 rejects that the project deploys (botocore's enum allows them all).
EXTRA_INSTANCE_TYPES: tuple[str, ...] = tuple(sorted(INSTANCE_TYPES))


def control(
    account_id: str = DEFAULT_ACCOUNT_ID,
    region_name: str = "us-east-1",
) -> InferenceComponentControl:
    """The inference-component state of one account and region (created on first use).

    It lives on moto's backend object, so resetting moto (a new ``mock_aws``) resets it too.
    """
    backend = sm_models.sagemaker_backends[account_id][region_name]
    with _install_lock:
        ctl = backend.__dict__.get("_localaws_ic")
        if ctl is None:
            ctl = InferenceComponentControl(account_id, region_name)
            backend.__dict__["_localaws_ic"] = ctl
    assert isinstance(ctl, InferenceComponentControl)
    return ctl


# --- patches on moto ------------------------------------------------------------------------
_install_lock = threading.RLock()
_installed = False


def install() -> None:
    """Extend moto's SageMaker; calling it again changes nothing."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _patch_endpoint_configs()
        _patch_endpoints()
        _add_actions()
        _installed = True


def _patch_endpoint_configs() -> None:
    config_cls = sm_models.FakeEndpointConfig
    original_validate = config_cls.validate_instance_type

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in EXTRA_INSTANCE_TYPES:
            original_validate(self, instance_type)

    setattr(config_cls, "validate_instance_type", validate_instance_type)  # noqa: B010

    backend_cls = sm_models.SageMakerModelBackend
    original_variants = backend_cls.validate_production_variants

    def validate_production_variants(self: Any, variants: list[dict[str, Any]]) -> None:
        # An inference-component variant names no model: its components do.
        original_variants(self, [v for v in variants if "ModelName" in v])

    setattr(backend_cls, "validate_production_variants", validate_production_variants)  # noqa: B010

    response_cls = sm_responses.SageMakerResponse
    original_create = response_cls.create_endpoint_config

    def create_endpoint_config(self: Any) -> ActionResult:
        result = original_create(self)
        config = self.sagemaker_backend.endpoint_configs[self._get_param("EndpointConfigName")]
        for attribute, param in (
            ("execution_role_arn", "ExecutionRoleArn"),
            ("enable_network_isolation", "EnableNetworkIsolation"),
        ):
            value = self._get_param(param)
            if value is not None:
                setattr(config, attribute, value)
        return result

    setattr(response_cls, "create_endpoint_config", create_endpoint_config)  # noqa: B010


def _patch_endpoints() -> None:
    endpoint_cls = sm_models.FakeEndpoint
    original_process = endpoint_cls._process_production_variants

    def process(self: Any, variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
        processed = original_process(self, variants)
        for summary, variant in zip(processed, variants, strict=True):
            for key in ("ManagedInstanceScaling", "RoutingConfig"):
                if key in variant:
                    summary[key] = variant[key]
        return processed

    setattr(endpoint_cls, "_process_production_variants", process)  # noqa: B010

    backend_cls = sm_models.SageMakerModelBackend
    original_describe = backend_cls.describe_endpoint
    original_delete = backend_cls.delete_endpoint

    def describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
        response = original_describe(self, endpoint_name)
        ctl = control(self.account_id, self.region_name)
        if endpoint_name in ctl.fleets:
            current, desired = ctl.instance_counts(endpoint_name)
            for variant in response.get("ProductionVariants", [])[:1]:
                variant["CurrentInstanceCount"] = current
                variant["DesiredInstanceCount"] = desired
        return response

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        original_delete(self, endpoint_name)
        control(self.account_id, self.region_name).delete_endpoint(endpoint_name)

    setattr(backend_cls, "describe_endpoint", describe_endpoint)  # noqa: B010
    setattr(backend_cls, "delete_endpoint", delete_endpoint)  # noqa: B010


def _add_actions() -> None:
    """Response methods: moto dispatches ``X-Amz-Target: SageMaker.CreateInferenceComponent``
    to ``create_inference_component`` on the response class."""

    def ctl(self: Any) -> InferenceComponentControl:
        return control(self.current_account, self.region)

    def create_inference_component(self: Any) -> ActionResult:
        component = ctl(self).create(
            self.sagemaker_backend,
            name=self._get_param("InferenceComponentName"),
            endpoint_name=self._get_param("EndpointName"),
            variant_name=self._get_param("VariantName"),
            specification=self._get_param("Specification") or {},
            runtime_config=self._get_param("RuntimeConfig"),
        )
        return ActionResult({"InferenceComponentArn": component.arn})

    def describe_inference_component(self: Any) -> ActionResult:
        return ActionResult(ctl(self).describe(self._get_param("InferenceComponentName")))

    def list_inference_components(self: Any) -> ActionResult:
        found = ctl(self).list(
            endpoint_name=self._get_param("EndpointNameEquals"),
            status=self._get_param("StatusEquals"),
            name_contains=self._get_param("NameContains"),
            sort_order=self._get_param("SortOrder"),
        )
        start = int(self._get_param("NextToken") or 0)
        size = int(self._get_param("MaxResults") or 100)
        page: dict[str, Any] = {"InferenceComponents": found[start : start + size]}
        if start + size < len(found):
            page["NextToken"] = str(start + size)
        return ActionResult(page)

    def update_inference_component_runtime_config(self: Any) -> ActionResult:
        desired = self._get_param("DesiredRuntimeConfig") or {}
        component = ctl(self).update_runtime_config(
            self._get_param("InferenceComponentName"), int(desired["CopyCount"])
        )
        return ActionResult({"InferenceComponentArn": component.arn})

    def delete_inference_component(self: Any) -> EmptyResult:
        ctl(self).delete(self._get_param("InferenceComponentName"))
        return EmptyResult()

    response_cls = sm_responses.SageMakerResponse
    for method in (
        create_inference_component,
        describe_inference_component,
        list_inference_components,
        update_inference_component_runtime_config,
        delete_inference_component,
    ):
        setattr(response_cls, method.__name__, method)
