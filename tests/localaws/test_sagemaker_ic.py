"""The inference-component extension of moto, in process and behind moto's server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from localaws import sagemaker_ic

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"
ROLE = "arn:aws:iam::123456789012:role/r"
DELAY_S = {"warm_instance": 30.0, "cached": 258.0, "uncached": 525.0}


def build(sm: Any, instance_type: str = "ml.g6.2xlarge", max_instances: int = 3) -> None:
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE})
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ExecutionRoleArn=ROLE,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "InstanceType": instance_type,
                "InitialInstanceCount": 1,
                "ManagedInstanceScaling": {
                    "Status": "ENABLED",
                    "MinInstanceCount": 1,
                    "MaxInstanceCount": max_instances,
                },
                "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
            }
        ],
    )
    sm.create_endpoint(EndpointName="e", EndpointConfigName="c")
    sm.create_inference_component(
        InferenceComponentName="ic",
        EndpointName="e",
        VariantName="AllTraffic",
        Specification={
            "ModelName": "m",
            "ComputeResourceRequirements": {
                "NumberOfAcceleratorDevicesRequired": 1,
                "MinMemoryRequiredInMb": 1024,
            },
        },
        RuntimeConfig={"CopyCount": 1},
    )


def runtime(sm: Any) -> tuple[str, int, int]:
    d = sm.describe_inference_component(InferenceComponentName="ic")
    return (
        d["InferenceComponentStatus"],
        d["RuntimeConfig"]["DesiredCopyCount"],
        d["RuntimeConfig"]["CurrentCopyCount"],
    )


@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[float]]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sagemaker_ic.install()
    sagemaker_ic.install()  # idempotent
    with mock_aws():
        now = [0.0]
        ctl = sagemaker_ic.control()
        ctl.set_clock(lambda: now[0])
        ctl.set_ready_delay(lambda component, path, held: DELAY_S[path])
        sm = boto3.client("sagemaker")
        build(sm)
        yield sm, now


def test_ic_endpoint_configs_are_kept_and_described(timed: tuple[Any, list[float]]) -> None:
    sm, _ = timed
    config = sm.describe_endpoint_config(EndpointConfigName="c")
    assert config["ExecutionRoleArn"] == ROLE
    variant = config["ProductionVariants"][0]
    assert "ModelName" not in variant
    assert variant["ManagedInstanceScaling"]["MaxInstanceCount"] == 3
    endpoint = sm.describe_endpoint(EndpointName="e")["ProductionVariants"][0]
    assert endpoint["RoutingConfig"]["RoutingStrategy"] == "LEAST_OUTSTANDING_REQUESTS"
    assert endpoint["CurrentInstanceCount"] == 1


def test_copies_arrive_over_time_by_path(timed: tuple[Any, list[float]]) -> None:
    sm, now = timed
    assert runtime(sm) == ("Creating", 1, 0)
    now[0] = 30.0  # first copy on the running instance: warm path
    assert runtime(sm) == ("InService", 1, 1)
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 3}
    )
    assert runtime(sm) == ("Updating", 3, 1)
    # The image served here, so the new instances skip the pull: 258 s, not 525 s.
    now[0] = 30.0 + 257.0
    assert runtime(sm) == ("Updating", 3, 1)
    now[0] = 30.0 + 258.0
    assert runtime(sm) == ("InService", 3, 3)
    assert (
        sm.describe_endpoint(EndpointName="e")["ProductionVariants"][0]["CurrentInstanceCount"] == 3
    )


def instances(sm: Any) -> int:
    return int(
        sm.describe_endpoint(EndpointName="e")["ProductionVariants"][0]["CurrentInstanceCount"]
    )


def test_an_idle_instance_is_released_after_the_scale_in_policys_cooldown(
    timed: tuple[Any, list[float]],
) -> None:
    # Given 3 copies on 3 instances (no ScaleInPolicy: SageMaker's default cooldown, 20 min)
    sm, now = timed
    now[0] = 30.0
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 3}
    )
    now[0] = 1_000.0
    assert instances(sm) == 3
    # When scale-in removes two copies
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 1}
    )
    # Then their instances stay for the cooldown (IDLE_RELEASE), and go after it
    now[0] = 1_000.0 + 20 * 60 - 1
    assert instances(sm) == 3
    now[0] = 1_000.0 + 20 * 60
    assert instances(sm) == 1


def test_updates_are_refused_while_updating(timed: tuple[Any, list[float]]) -> None:
    sm, now = timed
    now[0] = 30.0
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 2}
    )
    with pytest.raises(ClientError) as raised:
        sm.update_inference_component_runtime_config(
            InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 3}
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "in-progress" in raised.value.response["Error"]["Message"]
    assert runtime(sm)[1] == 2


def test_copies_beyond_max_instances_wait(timed: tuple[Any, list[float]]) -> None:
    sm, now = timed
    now[0] = 30.0
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 5}
    )
    now[0] = 10_000.0
    assert runtime(sm) == ("Updating", 5, 3)  # 3 instances of 1 GPU each at most
    sm.delete_inference_component(InferenceComponentName="ic")
    assert sm.list_inference_components()["InferenceComponents"] == []


def test_faults_are_injected_once_and_change_nothing(timed: tuple[Any, list[float]]) -> None:
    sm, now = timed
    now[0] = 30.0
    sagemaker_ic.control().inject_fault(
        "UpdateInferenceComponentRuntimeConfig", "ic", "ResourceLimitExceeded", "quota"
    )
    with pytest.raises(ClientError) as raised:
        sm.update_inference_component_runtime_config(
            InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 2}
        )
    assert raised.value.response["Error"]["Code"] == "ResourceLimitExceeded"
    assert runtime(sm) == ("InService", 1, 1)
    sm.update_inference_component_runtime_config(
        InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 2}
    )
    assert runtime(sm)[1] == 2


def test_list_filters_by_endpoint_and_unknown_names_are_errors(
    timed: tuple[Any, list[float]],
) -> None:
    sm, _ = timed
    assert [
        c["InferenceComponentName"]
        for c in sm.list_inference_components(EndpointNameEquals="e")["InferenceComponents"]
    ] == ["ic"]
    assert sm.list_inference_components(EndpointNameEquals="other")["InferenceComponents"] == []
    with pytest.raises(ClientError, match="Could not find inference component"):
        sm.describe_inference_component(InferenceComponentName="nope")


def test_deleting_the_endpoint_purges_its_components_and_cache(
    timed: tuple[Any, list[float]],
) -> None:
    sm, now = timed
    now[0] = 30.0
    assert sagemaker_ic.control().cached_images("e") == frozenset({IMAGE})
    sm.delete_endpoint(EndpointName="e")
    assert sm.list_inference_components()["InferenceComponents"] == []
    assert sagemaker_ic.control().cached_images("e") == frozenset()


def test_it_works_behind_the_threaded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sagemaker_ic.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        sm = boto3.client(
            "sagemaker", region_name="us-east-1", endpoint_url=f"http://{host}:{port}"
        )
        now = [0.0]
        ctl = sagemaker_ic.control()
        ctl.set_clock(lambda: now[0])
        ctl.set_ready_delay(lambda component, path, held: DELAY_S[path])
        build(sm, instance_type="ml.p5.48xlarge")
        now[0] = 30.0
        sm.update_inference_component_runtime_config(
            InferenceComponentName="ic", DesiredRuntimeConfig={"CopyCount": 8}
        )
        # 8 GPUs on a p5: every copy fits on the running instance (warm path, 30 s).
        now[0] = 60.0
        assert runtime(sm) == ("InService", 8, 8)
    finally:
        server.stop()
