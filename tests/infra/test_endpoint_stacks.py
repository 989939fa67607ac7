"""The synthesized templates of a two-endpoint fleet: what a deploy would create.

One synth per module (a synth costs seconds). The two endpoints are named ``alpha`` and
``alpha-b`` on purpose: a prefix match anywhere in IAM would let alpha act on alpha-b.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from config.fleet import Endpoint, Fleet, Notifications, load_fleet
from lambdas.control_plane import contract
from lambdas.control_plane.decision import ScalingSpec
from stacks.app import CONTROL_PLANE_STACK, build_app, endpoint_stack_name
from stacks.assets import pinned_version
from stacks.health import OperatorTopic
from stacks.sagemaker_endpoint import SageMakerEndpoint

pytestmark = pytest.mark.synth

FLEET = Path(__file__).with_name("two_endpoints.yaml")
ACCOUNT = "111111111111"
REGION = "us-east-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/state"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128"


@dataclass
class Synth:
    fleet: Fleet
    templates: dict[str, dict[str, Any]]
    outdir: Path

    def template(self, endpoint: str) -> dict[str, Any]:
        return self.templates[endpoint_stack_name(endpoint)]

    def resources(self, endpoint: str, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template(endpoint)["Resources"].items() if r["Type"] == kind}

    def scaling_alarms(self, endpoint: str) -> dict[str, dict[str, Any]]:
        """The alarms that invoke the scaler (the operator alarms notify a topic)."""
        return {
            k: r
            for k, r in self.resources(endpoint, "AWS::CloudWatch::Alarm").items()
            if any("Fn::GetAtt" in a for a in r["Properties"]["AlarmActions"])
        }

    def asset(self, code: Mapping[str, Any]) -> Path:
        """The staged folder of a function's or layer's ``Code``/``Content`` (``asset.<hash>``)."""
        folder = self.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
        assert folder.is_dir(), folder
        return folder


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    fleet = load_fleet(FLEET)
    outdir = tmp_path_factory.mktemp("cdk.out")
    built = build_app(fleet, outdir=str(outdir))
    assembly = built.app.synth()  # runs cdk-nag: any unacknowledged finding raises here
    templates = {
        s.stack_name: assembly.get_stack_by_name(s.stack_name).template for s in built.stacks
    }
    return Synth(fleet, templates, outdir)


# --- a small IAM evaluator: enough to ask "may this role do X on Y?" ---------------------------


def render(value: Any) -> Any:
    """Resolve CloudFormation intrinsics to a concrete ARN string for matching."""
    if isinstance(value, list):
        return [render(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(render(p)) for p in parts)
    if "Ref" in value:
        return {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION}.get(
            value["Ref"], f"<{value['Ref']}>"
        )
    if "Fn::ImportValue" in value or "Fn::GetStackOutput" in value:
        # The table comes from the control-plane stack (an export or a stack output).
        return TABLE_ARN if "StateTable" in json.dumps(value) else f"<import {value}>"
    if "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        return f"<{logical}.{attribute}>"
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(
    conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, list[str]]
) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            present = key in context
            if operator == "ForAllValues:StringEquals":
                if present and not set(context[key]) <= set(_as_list(expected)):
                    return False
            elif operator == "Null":
                if (expected == "false") != present:
                    return False
            elif operator == "StringEquals":
                if not present or not set(context[key]) <= set(_as_list(expected)):
                    return False
            elif operator == "StringLike":
                if not present or not all(
                    any(fnmatchcase(v, p) for p in _as_list(expected)) for v in context[key]
                ):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} not modelled")
    return True


def allowed(
    statements: list[dict[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, list[str]] | None = None,
) -> bool:
    """True if an Allow statement grants ``action`` on ``resource`` (no Deny in these roles)."""
    for st in statements:
        assert st["Effect"] == "Allow"
        if not any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(st["Action"])):
            continue
        if not any(fnmatchcase(resource, str(r)) for r in _as_list(render(st["Resource"]))):
            continue
        if _conditions_hold(st.get("Condition", {}), context or {}):
            return True
    return False


def role_statements(template: dict[str, Any], function_logical_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role of the named function."""
    resources = template["Resources"]
    [function] = [
        r
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith(function_logical_prefix)
    ]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for r in resources.values():
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]:
            statements += r["Properties"]["PolicyDocument"]["Statement"]
    return statements


def component_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-component/{name}"


FUNCTIONS = {
    "scaler": "ControlPlaneScaler",
    "tracker": "ControlPlaneCacheTracker",
    "cleanup": "ControlPlaneCleanup",
    "forecaster": "ControlPlaneForecaster",
}


def each_function() -> Iterator[tuple[str, str, str]]:
    for own, other in (("alpha", "alpha-b"), ("alpha-b", "alpha")):
        for prefix in FUNCTIONS.values():
            yield own, other, prefix


# --- isolation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("own", "other"), [("alpha", "alpha-b"), ("alpha-b", "alpha")])
def test_scaler_scales_only_its_own_components(synth: Synth, own: str, other: str) -> None:
    statements = role_statements(synth.template(own), "ControlPlaneScaler")
    action = "sagemaker:UpdateInferenceComponentRuntimeConfig"
    for m in synth.fleet.endpoint(own).models:
        assert allowed(statements, action, component_arn(m.component_name))
    for m in synth.fleet.endpoint(other).models:
        assert not allowed(statements, action, component_arn(m.component_name))
    assert not allowed(statements, action, component_arn("someone-elses-model"))


@pytest.mark.parametrize(("own", "other", "function"), list(each_function()))
def test_table_rows_only_in_own_partition(
    synth: Synth, own: str, other: str, function: str
) -> None:
    statements = role_statements(synth.template(own), function)
    # The forecaster writes one row at a time; the others also batch.
    write = (
        "dynamodb:UpdateItem" if function == FUNCTIONS["forecaster"] else "dynamodb:BatchWriteItem"
    )
    # Given the function's role, when it touches rows keyed by its own endpoint, it may ...
    assert allowed(statements, "dynamodb:Query", TABLE_ARN, {"dynamodb:LeadingKeys": [own]})
    assert allowed(statements, write, TABLE_ARN, {"dynamodb:LeadingKeys": [own, own]})
    # ... but never rows of the other endpoint, alone or mixed into a batch ...
    assert not allowed(statements, "dynamodb:Query", TABLE_ARN, {"dynamodb:LeadingKeys": [other]})
    assert not allowed(statements, write, TABLE_ARN, {"dynamodb:LeadingKeys": [own, other]})
    # ... and nothing without a partition key (a Scan would read every endpoint's rows).
    assert not allowed(statements, "dynamodb:Scan", TABLE_ARN)
    assert not allowed(statements, "dynamodb:Query", TABLE_ARN)


@pytest.mark.parametrize(("own", "other"), [("alpha", "alpha-b"), ("alpha-b", "alpha")])
def test_queues_and_alarms_are_per_endpoint(synth: Synth, own: str, other: str) -> None:
    scaler = role_statements(synth.template(own), "ControlPlaneScaler")
    cleanup = role_statements(synth.template(own), "ControlPlaneCleanup")
    own_queue = next(
        k
        for k in synth.resources(own, "AWS::SQS::Queue")
        if k.startswith("ControlPlaneReevaluation") and "Dead" not in k
    )
    assert allowed(scaler, "sqs:SendMessage", f"<{own_queue}.Arn>")
    assert allowed(cleanup, "sqs:PurgeQueue", f"<{own_queue}.Arn>")
    # Cleanup leaves its deletion marker (a PutItem) in its own partition only.
    assert allowed(cleanup, "dynamodb:PutItem", TABLE_ARN, {"dynamodb:LeadingKeys": [own]})
    assert not allowed(cleanup, "dynamodb:PutItem", TABLE_ARN, {"dynamodb:LeadingKeys": [other]})
    assert not allowed(scaler, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111111111111:other")
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    own_component = synth.fleet.endpoint(own).models[0].component_name
    other_component = synth.fleet.endpoint(other).models[0].component_name
    assert allowed(scaler, "cloudwatch:DescribeAlarms", f"{alarm}{own_component}-scale-out")
    assert not allowed(scaler, "cloudwatch:DescribeAlarms", f"{alarm}{other_component}-scale-out")


def test_only_own_alarms_may_invoke_the_scaler(synth: Synth) -> None:
    # One permission per component (Lambda's 20 KB resource policy would not hold one per
    # alarm on a packed endpoint), for the alarms named <component>-*.
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    for own, other in (("alpha", "alpha-b"), ("alpha-b", "alpha")):
        permissions = [
            p["Properties"]
            for p in synth.resources(own, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "lambda.alarms.cloudwatch.amazonaws.com"
        ]
        assert len(permissions) == len(synth.fleet.endpoint(own).models)
        for p in permissions:
            assert p["FunctionName"]["Fn::GetAtt"][0].startswith("ControlPlaneScaler")
            assert p["SourceAccount"] == {"Ref": "AWS::AccountId"}
        patterns = [render(p["SourceArn"]) for p in permissions]

        def may_invoke(alarm_name: str, patterns: list[str] = patterns) -> bool:
            return any(fnmatchcase(alarm + alarm_name, pattern) for pattern in patterns)

        for r in synth.scaling_alarms(own).values():
            assert may_invoke(r["Properties"]["AlarmName"])
        for r in synth.scaling_alarms(other).values():
            assert not may_invoke(r["Properties"]["AlarmName"])


# --- alarms -----------------------------------------------------------------------------------


def test_alarms_per_component(synth: Synth) -> None:
    alarms = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in synth.scaling_alarms("alpha").values()
    }
    scaler = next(
        k
        for k in synth.resources("alpha", "AWS::Lambda::Function")
        if k.startswith("ControlPlaneScaler")
    )
    assert set(alarms) == {
        f"alpha-{m}-{t}"
        for m in ("chat", "code")
        for t in ("scale-out", "surge", "scale-in", "from-zero")
    }
    for a in alarms.values():
        assert a["AlarmActions"] == [{"Fn::GetAtt": [scaler, "Arn"]}]
        assert a["OKActions"] == [{"Fn::GetAtt": [scaler, "Arn"]}]
        assert a["Namespace"] == "AWS/SageMaker"
        assert a["TreatMissingData"] == "notBreaching"

    out = alarms["alpha-chat-scale-out"]
    assert (out["MetricName"], out["Statistic"], out["Period"]) == (
        "ConcurrentRequestsPerCopy",
        "Average",
        10,
    )
    assert out["Dimensions"] == [{"Name": "InferenceComponentName", "Value": "alpha-chat"}]
    assert (out["ComparisonOperator"], out["Threshold"]) == ("GreaterThanThreshold", 4)
    assert (out["DatapointsToAlarm"], out["EvaluationPeriods"]) == (2, 3)

    code_out = alarms["alpha-code-scale-out"]  # the config's own window for this model
    assert (code_out["Period"], code_out["DatapointsToAlarm"], code_out["Threshold"]) == (20, 3, 4)

    # The surge alarm: one datapoint of the scale-out period at 3 x its threshold, same metric.
    for model, period, threshold in (("chat", 10, 12), ("code", 20, 12)):
        surge = alarms[f"alpha-{model}-surge"]
        assert (surge["MetricName"], surge["Statistic"]) == ("ConcurrentRequestsPerCopy", "Average")
        assert (surge["Period"], surge["DatapointsToAlarm"], surge["EvaluationPeriods"]) == (
            period,
            1,
            1,
        )
        assert (surge["ComparisonOperator"], surge["Threshold"]) == (
            "GreaterThanThreshold",
            threshold,
        )

    scale_in = alarms["alpha-code-scale-in"]
    assert (scale_in["ComparisonOperator"], scale_in["Period"], scale_in["EvaluationPeriods"]) == (
        "LessThanThreshold",
        120,
        5,
    )
    assert scale_in["Period"] * scale_in["EvaluationPeriods"] > (
        code_out["Period"] * code_out["EvaluationPeriods"]
    )

    zero = alarms["alpha-chat-from-zero"]
    assert (
        zero["MetricName"],
        zero["Statistic"],
        zero["ComparisonOperator"],
        zero["Threshold"],
    ) == ("NoCapacityInvocationFailures", "Sum", "GreaterThanThreshold", 0)
    assert zero["Dimensions"] == [{"Name": "InferenceComponentName", "Value": "alpha-chat"}]


def test_alarms_are_created_after_their_component(synth: Synth) -> None:
    # On a fresh deploy an alarm created before its component would go INSUFFICIENT_DATA -> OK
    # and invoke the scaler for a component that does not exist yet.
    components = {
        r["Properties"]["InferenceComponentName"]: logical
        for logical, r in synth.resources("alpha", "AWS::SageMaker::InferenceComponent").items()
    }
    alarms = synth.scaling_alarms("alpha").values()
    assert len(alarms) == 8
    for alarm in alarms:
        [dimension] = alarm["Properties"]["Dimensions"]
        assert components[dimension["Value"]] in alarm.get("DependsOn", [])


# --- SageMaker resources ----------------------------------------------------------------------


def test_inference_components(synth: Synth) -> None:
    template = Template.from_json(synth.template("alpha"))
    template.resource_count_is("AWS::SageMaker::InferenceComponent", 2)
    template.has_resource(
        "AWS::SageMaker::InferenceComponent",
        {
            "Properties": {
                "InferenceComponentName": "alpha-code",
                "EndpointName": "alpha",
                "VariantName": "AllTraffic",
                "Specification": Match.object_like(
                    {
                        "ModelName": "alpha-code",
                        "ComputeResourceRequirements": {
                            "NumberOfAcceleratorDevicesRequired": 2,
                            "MinMemoryRequiredInMb": 32768,
                        },
                        "DataCacheConfig": {"EnableCaching": True},
                    }
                ),
                "RuntimeConfig": {"CopyCount": 1},
            },
            "DependsOn": Match.array_with(
                [
                    Match.string_like_regexp("SageMakerEndpoint"),
                    Match.string_like_regexp("SageMakerModelcode"),
                ]
            ),
        },
    )


def test_endpoint_config_is_inference_component_style(synth: Synth) -> None:
    [config] = synth.resources("alpha", "AWS::SageMaker::EndpointConfig").values()
    props = config["Properties"]
    assert "ExecutionRoleArn" in props
    [variant] = props["ProductionVariants"]
    assert "ModelName" not in variant
    assert variant["InstanceType"] == "ml.g6.12xlarge"
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": 2,
        "ScaleInPolicy": {
            "Strategy": "IDLE_RELEASE",
            "CooldownInMinutes": 20,
            "MaximumStepSize": 1,
        },
    }
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}


def test_endpoint_metrics_are_set_from_the_fleet_file(synth: Synth) -> None:
    # alpha turns enhanced metrics and detailed observability off; alpha-b keeps the defaults
    # (both on). Both are written out: SageMaker's own default for detailed observability is True.
    [alpha] = synth.resources("alpha", "AWS::SageMaker::EndpointConfig").values()
    assert alpha["Properties"]["MetricsConfig"] == {
        "EnableEnhancedMetrics": False,
        "EnableDetailedObservability": False,
        "MetricPublishFrequencyInSeconds": 10,
    }
    [alpha_b] = synth.resources("alpha-b", "AWS::SageMaker::EndpointConfig").values()
    assert alpha_b["Properties"]["MetricsConfig"] == {
        "EnableEnhancedMetrics": True,
        "EnableDetailedObservability": True,
        "MetricPublishFrequencyInSeconds": 10,
    }


def test_model_sources(synth: Synth) -> None:
    [hf_model] = [
        r["Properties"]
        for k, r in synth.resources("alpha", "AWS::SageMaker::Model").items()
        if k.startswith("SageMakerModelchat")
    ]
    assert hf_model["PrimaryContainer"]["Environment"]["HF_MODEL_ID"] == "Qwen/Qwen3-8B"
    assert hf_model["EnableNetworkIsolation"] is False
    [s3_model] = [
        r["Properties"] for r in synth.resources("alpha-b", "AWS::SageMaker::Model").values()
    ]
    assert s3_model["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://alpha-b-weights/qwen3-8b/"
    )
    assert s3_model["EnableNetworkIsolation"] is True


def test_execution_role_pulls_only_its_images_and_reads_only_its_weights(synth: Synth) -> None:
    [role] = [
        k
        for k in synth.resources("alpha-b", "AWS::IAM::Role")
        if k.startswith("SageMakerExecutionRole")
    ]
    statements = [
        s
        for r in synth.resources("alpha-b", "AWS::IAM::Policy").values()
        if {"Ref": role} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    repo = "arn:aws:ecr:us-east-1:123456789012:repository/team/lmi"
    assert allowed(statements, "ecr:BatchGetImage", repo)
    assert not allowed(
        statements, "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/team/other"
    )
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::alpha-b-weights/qwen3-8b/model.bin")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::alpha-b-weights/other/x")
    assert not allowed(statements, "s3:PutObject", "arn:aws:s3:::alpha-b-weights/qwen3-8b/x")


@pytest.fixture(scope="module")
def weights_role() -> list[dict[str, Any]]:
    """The execution role's statements for models at look-alike S3 locations (no app synth)."""
    endpoint = load_fleet(Path(__file__).with_name("look_alike_weights.yaml")).endpoint("weights")
    stack = cdk.Stack(cdk.App(), "Weights", env=cdk.Environment(account=ACCOUNT, region=REGION))
    images = {m.component_name: IMAGE for m in endpoint.models}
    SageMakerEndpoint(stack, "E", endpoint=endpoint, images=images)
    template = Template.from_stack(stack).to_json()
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_weights_grant_stops_at_the_model_folder(weights_role: list[dict[str, Any]]) -> None:
    # Given a model at s3://shared/models/qwen (no trailing slash) ...
    statements = weights_role
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::shared/models/qwen/config.json")
    listing = {"s3:prefix": ["models/qwen/"]}
    assert allowed(statements, "s3:ListBucket", "arn:aws:s3:::shared", listing)
    # ... the role reads nothing of the look-alike folder next to it, nor lists it.
    secret = "arn:aws:s3:::shared/models/qwen-secret-finetune/model.safetensors"
    assert not allowed(statements, "s3:GetObject", secret)
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::shared/models/qwen.tar.gz")
    look_alike = {"s3:prefix": ["models/qwen-secret-finetune/"]}
    assert not allowed(statements, "s3:ListBucket", "arn:aws:s3:::shared", look_alike)
    assert not allowed(statements, "s3:ListBucket", "arn:aws:s3:::shared", {"s3:prefix": [""]})


def test_weights_grant_of_an_archive_is_that_object(weights_role: list[dict[str, Any]]) -> None:
    statements = weights_role
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::shared/archives/llama.tar.gz")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::shared/archives/llama.tar.gz.1")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::shared/archives/llama-v2.tar.gz")
    assert not allowed(
        statements, "s3:ListBucket", "arn:aws:s3:::shared", {"s3:prefix": ["archives/"]}
    )


@pytest.fixture(scope="module")
def granted() -> dict[str, list[dict[str, Any]]]:
    """Statements of three roles, each given one of the endpoint construct's grants."""
    endpoint = load_fleet(FLEET).endpoint("alpha")
    stack = cdk.Stack(cdk.App(), "Grants", env=cdk.Environment(account=ACCOUNT, region=REGION))
    images = {m.component_name: IMAGE for m in endpoint.models}
    sagemaker = SageMakerEndpoint(stack, "E", endpoint=endpoint, images=images)
    roles = {}
    for name, grant in (
        ("invoke", sagemaker.grant_invoke),
        ("describe", sagemaker.grant_describe),
        ("update", sagemaker.grant_update_components),
    ):
        role = iam.Role(stack, name, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        grant(role)
        roles[name] = stack.get_logical_id(role.node.default_child)  # type: ignore[arg-type]
    template = Template.from_stack(stack).to_json()
    return {
        name: [
            s
            for r in template["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy" and {"Ref": logical} in r["Properties"]["Roles"]
            for s in r["Properties"]["PolicyDocument"]["Statement"]
        ]
        for name, logical in roles.items()
    }


def test_endpoint_grants_name_exactly_this_endpoint(granted: dict[str, Any]) -> None:
    endpoint = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/alpha"
    look_alike = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/alpha-b"
    chat, other_chat = component_arn("alpha-chat"), component_arn("alpha-b-chat")
    invoke, describe, update = granted["invoke"], granted["describe"], granted["update"]

    assert allowed(invoke, "sagemaker:InvokeEndpoint", endpoint)
    assert allowed(invoke, "sagemaker:InvokeEndpointWithResponseStream", endpoint)
    assert not allowed(invoke, "sagemaker:InvokeEndpoint", look_alike)
    assert not allowed(invoke, "sagemaker:UpdateInferenceComponentRuntimeConfig", chat)

    assert allowed(describe, "sagemaker:DescribeEndpoint", endpoint)
    assert allowed(describe, "sagemaker:DescribeInferenceComponent", chat)
    assert not allowed(describe, "sagemaker:DescribeEndpoint", look_alike)
    assert not allowed(describe, "sagemaker:DescribeInferenceComponent", other_chat)
    assert not allowed(describe, "sagemaker:UpdateInferenceComponentRuntimeConfig", chat)

    assert allowed(update, "sagemaker:UpdateInferenceComponentRuntimeConfig", chat)
    assert not allowed(update, "sagemaker:UpdateInferenceComponentRuntimeConfig", other_chat)
    assert not allowed(update, "sagemaker:UpdateInferenceComponent", chat)
    assert not allowed(update, "sagemaker:InvokeEndpoint", endpoint)


# --- functions --------------------------------------------------------------------------------


def test_functions_environment(synth: Synth) -> None:
    functions = {
        k: r["Properties"]
        for k, r in synth.resources("alpha", "AWS::Lambda::Function").items()
        if k.startswith("ControlPlane")
    }
    handlers = sorted(p["Handler"] for p in functions.values())
    assert handlers == [
        "control_plane.cache_tracker.handler",
        "control_plane.cleanup.handler",
        "control_plane.forecaster.handler",
        "control_plane.scaler.handler",
    ]
    for props in functions.values():
        env = props["Environment"]["Variables"]
        assert env[contract.ENV_ENDPOINT_NAME] == "alpha"
        assert env[contract.ENV_HISTORY_TTL_DAYS] == "30"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == contract.METRICS_NAMESPACE
        assert {contract.ENV_TABLE_NAME, contract.ENV_REEVALUATION_QUEUE_URL} <= set(env)
        # The components document is a file in the function's code, named by the environment.
        assert contract.ENV_COMPONENTS not in env
        assert env[contract.ENV_COMPONENTS_FILE] == contract.COMPONENTS_FILE_NAME
        code = synth.asset(props["Code"])
        components = json.loads((code / contract.COMPONENTS_FILE_NAME).read_text())
        assert set(components) == {"alpha-chat", "alpha-code"}
        spec = ScalingSpec.from_dict(components["alpha-code"]["spec"])
        # 2 GPUs per copy on a 4-GPU ml.g6.12xlarge: 2 copies per instance.
        assert (spec.endpoint, spec.max_copies, spec.copies_per_instance) == ("alpha", 2, 2)
        assert components["alpha-code"]["model"] == "alpha-code"
        assert components["alpha-chat"]["image"].startswith(
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0"
        )
        assert (code / "control_plane" / "scaler.py").is_file()
        assert not list(code.rglob("__pycache__"))
        assert props["Runtime"].startswith("python3.1")


def test_functions_run_the_powertools_release_the_tests_pin(synth: Synth) -> None:
    # The layer is each endpoint stack's own, built from the pinned release: nothing to look up
    # per partition (the public layer's publisher account and version differ by partition).
    pinned = pinned_version()
    assert pinned == importlib.metadata.version("aws-lambda-powertools")  # what the tests import
    for endpoint in ("alpha", "alpha-b"):
        layers = synth.resources(endpoint, "AWS::Lambda::LayerVersion")
        [(layer_id, layer)] = layers.items()
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        for logical, function in synth.resources(endpoint, "AWS::Lambda::Function").items():
            if logical.startswith("ControlPlane"):
                assert function["Properties"]["Layers"] == [{"Ref": layer_id}]
        content = synth.asset(layer["Properties"]["Content"])
        version_py = content / "python" / "aws_lambda_powertools" / "shared" / "version.py"
        assert f'VERSION = "{pinned}"' in version_py.read_text()
        assert (content / "python" / "typing_extensions.py").is_file()
        assert (content / "python" / "jmespath" / "__init__.py").is_file()
    for template in synth.templates.values():
        assert "017000801446" not in json.dumps(template)  # no public layer, in any partition


@pytest.mark.parametrize(("own", "other"), [("alpha", "alpha-b"), ("alpha-b", "alpha")])
def test_forecaster_reads_metrics_and_raises_only_its_own_components(
    synth: Synth, own: str, other: str
) -> None:
    statements = role_statements(synth.template(own), "ControlPlaneForecaster")
    update = "sagemaker:UpdateInferenceComponentRuntimeConfig"
    describe = "sagemaker:DescribeInferenceComponent"
    for m in synth.fleet.endpoint(own).models:
        assert allowed(statements, update, component_arn(m.component_name))
        assert allowed(statements, describe, component_arn(m.component_name))
    for m in synth.fleet.endpoint(other).models:
        assert not allowed(statements, update, component_arn(m.component_name))
        assert not allowed(statements, describe, component_arn(m.component_name))
    endpoint_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/"
    assert allowed(statements, "sagemaker:DescribeEndpoint", endpoint_arn + own)
    assert not allowed(statements, "sagemaker:DescribeEndpoint", endpoint_arn + other)
    # GetMetricData has no resource-level permissions: granted on *, and nothing else there.
    assert allowed(statements, "cloudwatch:GetMetricData", "*")
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "sqs:SendMessage"):
        assert not allowed(statements, action, "*"), action
    # Its floor and scale-outs on its own rows only; it never deletes rows.
    own_rows = {"dynamodb:LeadingKeys": [own]}
    assert allowed(statements, "dynamodb:UpdateItem", TABLE_ARN, own_rows)
    assert allowed(statements, "dynamodb:PutItem", TABLE_ARN, own_rows)
    assert not allowed(
        statements, "dynamodb:UpdateItem", TABLE_ARN, {"dynamodb:LeadingKeys": [other]}
    )
    assert not allowed(statements, "dynamodb:DeleteItem", TABLE_ARN, own_rows)


def test_forecaster_schedule_names_its_endpoint(synth: Synth) -> None:
    for endpoint, rate in (("alpha", "rate(10 minutes)"), ("alpha-b", "rate(5 minutes)")):
        [rule] = [
            r["Properties"]
            for k, r in synth.resources(endpoint, "AWS::Events::Rule").items()
            if k.startswith("EventsForecast")
        ]
        assert rule["ScheduleExpression"] == rate
        [target] = rule["Targets"]
        assert target["Arn"]["Fn::GetAtt"][0].startswith("ControlPlaneForecaster")
        assert json.loads(target["Input"]) == {
            "source": contract.FORECAST_SOURCE,
            "endpoint": endpoint,
        }
        assert (
            target["RetryPolicy"]["MaximumEventAgeInSeconds"]
            == int(rate.split("(")[1].split()[0]) * 60
        )
        assert "DeadLetterConfig" in target
    [forecaster] = [
        r["Properties"]
        for k, r in synth.resources("alpha", "AWS::Lambda::Function").items()
        if k.startswith("ControlPlaneForecaster")
    ]
    assert forecaster["Handler"] == "control_plane.forecaster.handler"
    assert forecaster["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "forecaster"


def test_no_forecaster_when_no_model_forecasts() -> None:
    fleet = load_fleet(FLEET)
    endpoint = fleet.endpoint("alpha-b")
    off = [
        replace(m, scaling=replace(m.scaling, forecast=replace(m.scaling.forecast, enabled=False)))
        for m in endpoint.models
    ]
    fleet = replace(fleet, endpoints=(replace(endpoint, models=tuple(off)),))
    built = build_app(fleet)
    [stack] = [s for s in built.stacks if s.stack_name == endpoint_stack_name("alpha-b")]
    template = Template.from_stack(stack).to_json()["Resources"]
    handlers = [
        r["Properties"]["Handler"]
        for r in template.values()
        if r["Type"] == "AWS::Lambda::Function" and "Handler" in r["Properties"]
    ]
    assert "control_plane.forecaster.handler" not in handlers
    schedules = [
        r["Properties"].get("ScheduleExpression")
        for r in template.values()
        if r["Type"] == "AWS::Events::Rule"
    ]
    assert [s for s in schedules if s] == ["rate(1 minute)"]


def test_async_failures_and_reevaluation_queue(synth: Synth) -> None:
    configs = synth.resources("alpha", "AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 4
    for logical, c in configs.items():
        props = c["Properties"]
        assert "OnFailure" in props["DestinationConfig"]
        # The forecaster's next scheduled run replaces a retry.
        assert props["MaximumRetryAttempts"] == (0 if "Forecaster" in logical else 2)
    [mapping] = synth.resources("alpha", "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"]["Ref"].startswith("ControlPlaneScaler")
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = synth.resources("alpha", "AWS::SQS::Queue")
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    [reevaluation] = [
        q["Properties"]
        for k, q in queues.items()
        if k.startswith("ControlPlaneReevaluation") and "Dead" not in k
    ]
    assert reevaluation["RedrivePolicy"]["maxReceiveCount"] == 5


# --- events, lifecycle, dashboard -------------------------------------------------------------


def test_event_rules(synth: Synth) -> None:
    rules = [r["Properties"] for r in synth.resources("alpha", "AWS::Events::Rule").values()]
    patterns = [r["EventPattern"] for r in rules if "EventPattern" in r]
    schedules = sorted(r["ScheduleExpression"] for r in rules if "ScheduleExpression" in r)
    # The tracker's poll, and the forecaster at the shortest interval of alpha's models (15, 10).
    assert schedules == ["rate(1 minute)", "rate(10 minutes)"]
    state = next(p for p in patterns if p["detail-type"] == ["SageMaker Endpoint State Change"])
    assert state["detail"] == {"EndpointName": ["alpha"]}
    calls = [p for p in patterns if p["detail-type"] == ["AWS API Call via CloudTrail"]]
    names = {n for p in calls for n in p["detail"]["eventName"]}
    assert names == {
        "CreateInferenceComponent",
        "UpdateInferenceComponent",
        "UpdateInferenceComponentRuntimeConfig",
        "DeleteInferenceComponent",
        "DeleteEndpoint",
    }
    ic_call = next(p for p in calls if "DeleteEndpoint" not in p["detail"]["eventName"])
    assert sorted(ic_call["detail"]["requestParameters"]["inferenceComponentName"]) == [
        "alpha-chat",
        "alpha-code",
    ]
    delete = next(p for p in calls if p["detail"]["eventName"] == ["DeleteEndpoint"])
    assert delete["detail"]["requestParameters"] == {"endpointName": ["alpha"]}


def test_cleanup_and_reconcile_hooks(synth: Synth) -> None:
    resources = synth.template("alpha")["Resources"]
    [cleanup_id] = [
        k for k, r in resources.items() if r["Type"] == "Custom::SageMakerFastScaleCleanup"
    ]
    [reconcile] = [
        r for r in resources.values() if r["Type"] == "Custom::SageMakerFastScaleReconcile"
    ]
    assert resources[cleanup_id]["Properties"]["EndpointName"] == "alpha"
    assert resources[cleanup_id]["Properties"]["Components"] == ["alpha-chat", "alpha-code"]
    components = synth.resources("alpha", "AWS::SageMaker::InferenceComponent")
    # Destroy order: components and endpoint first, then the purge.
    for c in components.values():
        assert cleanup_id in c["DependsOn"]
    [endpoint] = synth.resources("alpha", "AWS::SageMaker::Endpoint").values()
    assert cleanup_id in endpoint["DependsOn"]
    # Reconcile runs after every component update.
    assert set(components) <= set(reconcile["DependsOn"])
    assert reconcile["Properties"]["TemplateCopies"] == {"alpha-chat": 1, "alpha-code": 1}
    assert len(reconcile["Properties"]["ComponentsFingerprint"]) == 16


def test_reconcile_fingerprint_follows_component_changes(synth: Synth) -> None:
    # CloudFormation resets CopyCount only when a component's properties change: the Reconcile
    # hook's fingerprint must change then, and only then (no construct-time synth needed).
    endpoint = synth.fleet.endpoint("alpha")
    first = endpoint.models[0]
    app = cdk.App()

    def fingerprint(e: Endpoint) -> str:
        stack = cdk.Stack(
            app, f"S{len(app.node.children)}", env=cdk.Environment(account=ACCOUNT, region=REGION)
        )
        images = {m.component_name: IMAGE for m in e.models}
        return SageMakerEndpoint(stack, "E", endpoint=e, images=images).components_fingerprint

    same = fingerprint(endpoint)
    assert fingerprint(endpoint) == same
    more_memory = replace(first, memory_mb=first.memory_mb * 2)
    assert fingerprint(replace(endpoint, models=(more_memory, *endpoint.models[1:]))) != same
    # A scaling threshold is not a property of the component: no reset, no reconcile.
    scaling = replace(first.scaling, scale_out=replace(first.scaling.scale_out, threshold=3.0))
    calmer = replace(first, scaling=scaling)
    assert fingerprint(replace(endpoint, models=(calmer, *endpoint.models[1:]))) == same


def test_dashboard(synth: Synth) -> None:
    [dashboard] = synth.resources("alpha", "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(render(dashboard["Properties"]["DashboardBody"]))
    assert dashboard["Properties"]["DashboardName"] == "alpha-scaling"
    for needle in (
        "ConcurrentRequestsPerCopy",
        "alpha-chat",
        "alpha-code",
        contract.METRIC_DESIRED_COPIES,
        contract.METRIC_CURRENT_COPIES,
        contract.METRIC_INSTANCES,
        contract.METRIC_SCALING_DECISIONS,
        contract.METRIC_SCALE_OUT_SECONDS,
        contract.METRIC_FORECAST_FLOOR,
        "Forecast floor vs desired copies",
    ):
        assert needle in body, needle


def test_dashboard_shows_each_scaling_phase(synth: Synth) -> None:
    [dashboard] = synth.resources("alpha", "AWS::CloudWatch::Dashboard").values()
    body = str(render(dashboard["Properties"]["DashboardBody"]))
    layout = json.loads(body)["widgets"]

    def searches(title: str) -> list[str]:
        [widget] = [w for w in layout if w["properties"].get("title") == title]
        return [
            m[0]["expression"]
            for m in widget["properties"]["metrics"]
            if isinstance(m[0], dict) and "expression" in m[0]
        ]

    for title, metric in (
        ("Alarm to decision (s)", contract.METRIC_ALARM_TO_DECISION_SECONDS),
        ("Decision to desired count set (s)", contract.METRIC_DECISION_TO_DESIRED_SECONDS),
    ):
        found = searches(title)
        assert len(found) == 2, title
        for expression in found:
            assert f'MetricName="{metric}"' in expression
            assert 'EndpointName="alpha"' in expression
    paths = searches("Decision to copies serving (s), by path")
    assert [p.split('Path="')[1].split('"')[0] for p in paths] == [
        "warm_instance",
        "cached",
        "uncached",
    ]
    assert all(f'MetricName="{contract.METRIC_SCALE_OUT_SECONDS}"' in p for p in paths)
    floor = searches("Forecast floor vs desired copies")
    assert [
        f'MetricName="{m}"' in e
        for m, e in zip(
            (contract.METRIC_FORECAST_FLOOR, contract.METRIC_DESIRED_COPIES), floor, strict=True
        )
    ] == [True, True]
    for alarm in synth.resources("alpha", "AWS::CloudWatch::Alarm"):  # the status widgets
        assert f"<{alarm}.Arn>" in body


def test_dashboard_has_a_control_plane_health_row(synth: Synth) -> None:
    [dashboard] = synth.resources("alpha", "AWS::CloudWatch::Dashboard").values()
    body = str(render(dashboard["Properties"]["DashboardBody"]))  # the dashboard's JSON text
    for needle in (
        "Control plane health",
        "Dead-letter messages",
        "ApproximateNumberOfMessagesVisible",
        "Function errors and throttles",
        '"Errors"',
        '"Throttles"',
        contract.METRIC_CAPACITY_SHORTAGES,
        contract.METRIC_SCALING_ERRORS,
    ):
        assert needle in body, needle
    for name in operator_alarms(synth.template("alpha")):
        [logical] = [
            k
            for k, r in synth.resources("alpha", "AWS::CloudWatch::Alarm").items()
            if r["Properties"]["AlarmName"] == name
        ]
        assert f"<{logical}.Arn>" in body


# --- operator alarms --------------------------------------------------------------------------


def operator_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alarms that notify a topic (the scaling alarms invoke the scaler instead)."""
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and all("Ref" in a for a in r["Properties"].get("AlarmActions", [{}]))
    }


def watched(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads."""
    stats = [m["MetricStat"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    return [
        (
            s["Metric"]["Namespace"],
            s["Metric"]["MetricName"],
            {d["Name"]: d["Value"] for d in s["Metric"].get("Dimensions", [])},
        )
        for s in stats
    ]


def test_operator_alarms_watch_the_control_plane_and_notify_the_topic(synth: Synth) -> None:
    template = synth.template("alpha")
    [topic] = synth.resources("alpha", "AWS::SNS::Topic")
    alarms = operator_alarms(template)
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic}]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmDescription"]

    def alarms_on(namespace: str, metric: str, **dimensions: Any) -> list[str]:
        return [
            name
            for name, alarm in alarms.items()
            for ns, m, dims in watched(alarm)
            if (ns, m) == (namespace, metric) and dimensions.items() <= dims.items()
        ]

    functions = {
        k for k in synth.resources("alpha", "AWS::Lambda::Function") if k.startswith("ControlPlane")
    }
    assert len(functions) == 4
    for function in functions:
        for metric in ("Errors", "Throttles"):
            assert len(alarms_on("AWS/Lambda", metric, FunctionName={"Ref": function})) == 1
    queues = synth.resources("alpha", "AWS::SQS::Queue")
    dead_letters = [k for k in queues if "DeadLetters" in k or "FailedInvocations" in k]
    assert len(dead_letters) == 2
    for queue in dead_letters:
        [name] = alarms_on(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            QueueName={"Fn::GetAtt": [queue, "QueueName"]},
        )
        assert alarms[name]["TreatMissingData"] == "notBreaching"
    namespace = contract.METRICS_NAMESPACE
    for model in synth.fleet.endpoint("alpha").models:
        for metric in (contract.METRIC_SCALING_ERRORS, contract.METRIC_CAPACITY_SHORTAGES):
            names = alarms_on(
                namespace,
                metric,
                EndpointName="alpha",
                InferenceComponentName=model.component_name,
                service="scaler",
            )
            assert len(set(names)) == 1, (model.name, metric)
        # The forecaster counts its failures in ScalingErrors too: the same alarm sums them.
        forecaster = alarms_on(
            namespace,
            contract.METRIC_SCALING_ERRORS,
            EndpointName="alpha",
            InferenceComponentName=model.component_name,
            service="forecaster",
        )
        assert len(set(forecaster)) == 1, model.name
    endpoint_wide = [
        n
        for n in alarms_on(namespace, contract.METRIC_SCALING_ERRORS, EndpointName="alpha")
        if all("InferenceComponentName" not in dims for _, _, dims in watched(alarms[n]))
    ]
    assert len(set(endpoint_wide)) == 1
    # 4 functions x (errors, throttles) + 2 dead-letter queues + 1 endpoint-wide
    # + 2 models x (scaling errors, capacity shortages)
    assert len(alarms) == 8 + 2 + 1 + 4


def test_operator_topic_is_encrypted_tls_only_and_mails_the_fleets_address(
    synth: Synth,
) -> None:
    for template in (synth.template("alpha"), synth.templates[CONTROL_PLANE_STACK]):
        resources = template["Resources"]
        [(topic_id, topic)] = [
            (k, r) for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"
        ]
        key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        key = resources[key_id]["Properties"]
        assert key["EnableKeyRotation"] is True
        cloudwatch_may = [
            st
            for st in key["KeyPolicy"]["Statement"]
            if st.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert cloudwatch_may and "kms:GenerateDataKey*" in cloudwatch_may[0]["Action"]
        [policy] = [r for r in resources.values() if r["Type"] == "AWS::SNS::TopicPolicy"]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for st in statements
        )
        [subscription] = [
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
        ]
        assert subscription["Protocol"] == "email"
        assert subscription["Endpoint"] == "ops@example.com"
        assert subscription["TopicArn"] == {"Ref": topic_id}


def test_an_existing_topic_receives_the_alarms_instead() -> None:
    stack = cdk.Stack(cdk.App(), "Existing", env=cdk.Environment(account=ACCOUNT, region=REGION))
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alarms"
    operator = OperatorTopic(stack, "Operator", notifications=Notifications(topic_arn=arn))
    assert stack.resolve(operator.topic.topic_arn) == arn
    resources = Template.from_stack(stack).to_json().get("Resources", {})
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::SNS::Topic")]


def test_state_table_throttling_alarms(synth: Synth) -> None:
    template = synth.templates[CONTROL_PLANE_STACK]
    [table] = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    [topic] = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
    alarms = operator_alarms(template)
    metrics = {
        m
        for alarm in alarms.values()
        for _, m, dims in watched(alarm)
        if dims.get("TableName") == {"Ref": table}
    }
    assert {"ReadThrottleEvents", "WriteThrottleEvents"} <= metrics
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic}]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


# --- the shared stack -------------------------------------------------------------------------


def test_state_table(synth: Synth) -> None:
    [(_, table)] = [
        (k, r)
        for k, r in synth.templates[CONTROL_PLANE_STACK]["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table"
    ]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["DeletionPolicy"] == "Retain"
