"""The quality gates themselves: cdk-nag stops a synth, cfn-lint finds template mistakes, and
the fleet's limits (environment size, CloudFormation quotas) are enforced."""

from __future__ import annotations

import copy
import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk import aws_sqs as sqs

from config.fleet import DEFAULT_FLEET, ConfigError, load_fleet, parse_fleet
from lambdas.control_plane import contract
from stacks.app import ROOT, build_app
from stacks.assets import AssetError, pinned_version, powertools_release
from stacks.cfn_lint import lint_templates
from stacks.components import components_env

pytestmark = pytest.mark.synth

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000


def default_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_FLEET.read_text())
    return document


def fleet_of(models_per_endpoint: list[int], source: str = "generated.yaml") -> Any:
    """A fleet like the default one, with the given number of models on each endpoint."""
    document = default_document()
    template = document["endpoints"][0]
    endpoints = []
    for e, count in enumerate(models_per_endpoint):
        endpoint = copy.deepcopy(template)
        endpoint["name"] = f"ep{e:02d}"
        endpoint["instance_type"] = "ml.g6.48xlarge"  # 8 GPUs
        endpoint["max_instances"] = max(4, count // 2)  # room for every copy (4 each)
        model = endpoint["models"][0]
        endpoint["models"] = []
        for i in range(count):
            m = copy.deepcopy(model)
            m["name"] = f"model{i}"
            m["copies"] = {"min": 1, "max": 4, "initial": 1}
            endpoint["models"].append(m)
        endpoints.append(endpoint)
    document["endpoints"] = endpoints
    return parse_fleet(document, Path(source))


@pytest.fixture(scope="module")
def default_templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(load_fleet(), outdir=str(outdir)).app.synth()
    return sorted(outdir.glob("*.template.json"))


def test_cfn_lint_finds_nothing_in_the_default_fleet(default_templates: list[Path]) -> None:
    assert len(default_templates) == 2
    assert lint_templates(default_templates, ["us-east-1"]) == []


def test_cfn_lint_would_catch_an_alarm_period_cloudwatch_rejects(
    default_templates: list[Path], tmp_path: Path
) -> None:
    [endpoint_template] = [t for t in default_templates if "qwen3-8b" in t.name]
    template = json.loads(endpoint_template.read_text())
    alarm = next(r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm")
    alarm["Properties"]["Period"] = 15
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(template))
    findings = lint_templates([broken], ["us-east-1"])
    assert findings and all("broken.template.json" in f for f in findings)


def test_cfn_lint_lets_through_the_20_s_period_cloudwatch_accepts(
    default_templates: list[Path], tmp_path: Path
) -> None:
    # cfn-lint's period rule predates 20 s alarms; CloudWatch's API takes 10, 20, 30 or n x 60.
    [endpoint_template] = [t for t in default_templates if "qwen3-8b" in t.name]
    template = json.loads(endpoint_template.read_text())
    alarm = next(r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm")
    alarm["Properties"]["Period"] = 20
    twenty = tmp_path / "twenty.template.json"
    twenty.write_text(json.dumps(template))
    assert lint_templates([twenty], ["us-east-1"]) == []


def test_cdk_nag_stops_a_synth_with_an_unacknowledged_finding(tmp_path: Path) -> None:
    built = build_app(load_fleet(), outdir=str(tmp_path))
    # An SQS queue without TLS enforcement or a dead-letter queue: AwsSolutions-SQS3/SQS4.
    sqs.Queue(built.endpoints["qwen3-8b"], "CarelessQueue")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        built.app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert rules == {"AwsSolutions-SQS3", "AwsSolutions-SQS4"}


def test_too_many_models_for_an_inline_components_variable_is_a_config_error() -> None:
    # Local runs may pass the components document inline (COMPONENTS); the stacks ship it as a
    # file in the code instead, so a deploy has no such limit (tests/infra/test_many_models.py).
    fleet = fleet_of([8], source="crowded.yaml")
    with pytest.raises(ConfigError) as caught:
        components_env(fleet, fleet.endpoints[0])
    message = str(caught.value)
    assert message.startswith("crowded.yaml: endpoints[0] (ep00): its 8 models need")
    assert f"over the {contract.ENV_COMPONENTS_MAX_BYTES}-byte share" in message
    assert "allowed: about 3 models per endpoint" in message
    # Three models of the default fleet's kind fit inline, as the demo passes them.
    three = fleet_of([3], source="three.yaml")
    assert (
        len(components_env(three, three.endpoints[0]).encode()) <= contract.ENV_COMPONENTS_MAX_BYTES
    )


def test_hundred_model_fleet_fits_cloudformation_limits(tmp_path: Path) -> None:
    # 100 models as 5 endpoints of 20.
    fleet = fleet_of([20] * 5)
    assert len(fleet.models) == 100
    built = build_app(fleet, outdir=str(tmp_path))
    assembly = built.app.synth()
    assert len(assembly.stacks) == 6
    for stack in assembly.stacks:
        template_bytes = Path(stack.template_full_path).stat().st_size
        resources = len(stack.template["Resources"])
        assert resources < MAX_RESOURCES, (stack.stack_name, resources)
        assert template_bytes < MAX_TEMPLATE_BYTES, (stack.stack_name, template_bytes)


# --- one Powertools release for the tests and the functions ---------------------------------------


def test_every_requirements_file_pins_the_release_the_layer_carries() -> None:
    # The synth copies the installed release into the layer only if it is requirements.txt's
    # pin (below); no other file may pin another one for the tests.
    pinned = pinned_version()
    pins = {
        f"{path.name}:{number}": line.split("==", 1)[1].strip()
        for path in [*sorted(ROOT.glob("requirements*.txt")), ROOT / "constraints.txt"]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"^\s*aws[-_]lambda[-_]powertools\s*==", line, re.IGNORECASE)
    }
    assert pins and set(pins.values()) == {pinned}, pins


def test_an_installed_release_other_than_the_pin_stops_the_synth(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("aws-cdk-lib==2.275.0\naws-lambda-powertools==3.36.0  # older\n")
    installed = importlib.metadata.version("aws-lambda-powertools")
    with pytest.raises(AssetError) as caught:
        powertools_release(requirements)
    assert str(caught.value) == (
        f"aws-lambda-powertools {installed} is installed but requirements.txt pins 3.36.0; "
        "allowed: the pinned release (run `make setup`)"
    )
    requirements.write_text(f"aws-lambda-powertools=={installed}\n")
    release = powertools_release(requirements)
    assert release.version == installed
    assert "python/aws_lambda_powertools/shared/version.py" in release.files
