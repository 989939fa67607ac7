"""Each kind of fleet-file mistake gets an error naming the file, the field and what is allowed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.fleet import DEFAULT_FLEET, ConfigError, Notifications, load_fleet, parse_fleet

SOURCE = Path("fleet-under-test.yaml")
Document = dict[str, Any]


@pytest.fixture(scope="module")
def base() -> Document:
    document: Document = yaml.safe_load(DEFAULT_FLEET.read_text())
    return document


def error_for(base: Document, mutate: Callable[[Document], None]) -> str:
    document = copy.deepcopy(base)
    mutate(document)
    with pytest.raises(ConfigError) as caught:
        parse_fleet(document, SOURCE)
    message = str(caught.value)
    assert message.startswith(f"{SOURCE}: "), message
    return message


def model(d: Document) -> Document:
    m: Document = d["endpoints"][0]["models"][0]
    return m


def test_the_default_fleet_is_valid() -> None:
    fleet = load_fleet()
    assert [m.component_name for m in fleet.models] == ["qwen3-8b-chat"]
    assert fleet.endpoints[0].instance_type == "ml.g6.2xlarge"


def test_unknown_key(base: Document) -> None:
    message = error_for(base, lambda d: model(d).update(acclerators=1))
    assert "endpoints[0].models[0]: unknown key acclerators" in message
    assert "allowed: name, image" in message


def test_alarm_period_cloudwatch_rejects(base: Document) -> None:
    def mutate(d: Document) -> None:
        model(d)["scaling"]["scale_out"]["alarm"]["period_s"] = 15

    message = error_for(base, mutate)
    assert "scaling.scale_out.alarm.period_s: 15 is not a period CloudWatch alarms" in message
    assert "allowed: 10, 20, 30 or a multiple of 60" in message


def test_min_copies_above_max(base: Document) -> None:
    message = error_for(base, lambda d: model(d)["copies"].update(min=5, max=2, initial=2))
    assert "models[0].copies: min (5) > max (2); allowed: min <= max" in message


def test_min_instances_above_max(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(min_instances=9))
    assert "endpoints[0].min_instances: min_instances (9) > max_instances (8)" in message


def test_more_accelerators_than_the_instance_has(base: Document) -> None:
    message = error_for(base, lambda d: model(d).update(accelerators=4))
    assert "models[0].accelerators: 4 accelerators per copy, but ml.g6.2xlarge has 1" in message
    assert "allowed: 1 to 1" in message


def test_unknown_instance_type(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(instance_type="ml.g7.2xlarge"))
    assert "endpoints[0].instance_type: 'ml.g7.2xlarge' is not a known GPU instance type" in message
    assert "ml.g6.2xlarge" in message


def test_duplicate_endpoint_names(base: Document) -> None:
    def mutate(d: Document) -> None:
        d["endpoints"].append(copy.deepcopy(d["endpoints"][0]))

    message = error_for(base, mutate)
    assert "endpoints: duplicate name 'qwen3-8b'; names must be unique" in message


def test_names_differing_only_in_case_are_duplicates(base: Document) -> None:
    def mutate(d: Document) -> None:
        d["endpoints"].append(copy.deepcopy(d["endpoints"][0]))
        d["endpoints"][1]["name"] = "Qwen3-8B"

    message = error_for(base, mutate)
    assert "duplicate name 'Qwen3-8B' (same as 'qwen3-8b'" in message
    assert "case-insensitive" in message


def test_duplicate_model_names(base: Document) -> None:
    def mutate(d: Document) -> None:
        d["endpoints"][0]["models"].append(copy.deepcopy(model(d)))
        d["endpoints"][0]["max_instances"] = 16

    message = error_for(base, mutate)
    assert "endpoints[0].models: duplicate name 'chat'" in message


def test_name_sagemaker_would_reject(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(name="qwen_3.8b"))
    assert "endpoints[0].name: 'qwen_3.8b' is not a valid SageMaker endpoint name" in message
    assert "allowed: 1-63 letters, digits and hyphens" in message


def test_component_name_too_long(base: Document) -> None:
    message = error_for(base, lambda d: model(d).update(name="m" * 60))
    assert "inference component name 'qwen3-8b-mmm" in message
    assert "longer than SageMaker allows" in message


def test_log_retention_cloudwatch_does_not_offer(base: Document) -> None:
    message = error_for(base, lambda d: d["control_plane"].update(log_retention_days=10))
    assert "control_plane.log_retention_days: 10 is not a retention CloudWatch Logs" in message
    assert "allowed: 1, 3, 5, 7, 14, 30" in message


def test_wrong_type(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(max_instances="eight"))
    assert "endpoints[0].max_instances: must be int; got str 'eight'" in message


def test_scale_in_threshold_not_below_scale_out(base: Document) -> None:
    def mutate(d: Document) -> None:
        model(d)["scaling"]["scale_in"]["threshold"] = 8

    message = error_for(base, mutate)
    assert "scaling.scale_in.threshold: 8.0 must be below the scale-out threshold (8.0)" in message


def test_more_copies_than_instances_can_hold(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(max_instances=4))
    assert (
        "endpoints[0].max_instances: models' copies.max need 8 instances of ml.g6.2xlarge "
        "(chat: 8 / 1 per instance" in message
    )
    assert "but max_instances is 4; allowed: max_instances >= 8" in message


def test_copies_that_fit_by_accelerators_but_not_by_memory(base: Document) -> None:
    # 4 GPUs and 192 GiB per instance: a 1-GPU copy of 96000 MB fits twice, not four times,
    # so 8 copies need 4 instances although 2 instances have the 8 GPUs.
    def mutate(d: Document) -> None:
        d["endpoints"][0].update(instance_type="ml.g6.12xlarge", min_instances=1, max_instances=2)
        model(d).update(memory_mb=96000)

    message = error_for(base, mutate)
    assert "need 4 instances of ml.g6.12xlarge (chat: 8 / 2 per instance" in message
    assert "allowed: max_instances >= 4" in message


def test_model_source_needs_exactly_one(base: Document) -> None:
    message = error_for(base, lambda d: model(d)["model"].update(s3_uri="s3://bucket/qwen/"))
    assert "models[0].model: needs exactly one of hf_model_id" in message


def test_image_that_is_not_ecr(base: Document) -> None:
    message = error_for(base, lambda d: model(d).update(image="docker.io/vllm/vllm:latest"))
    assert "models[0].image: 'docker.io/vllm/vllm:latest' is not an ECR image URI" in message


def test_unreadable_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"{missing}: cannot read the fleet file"):
        load_fleet(missing)


def test_invalid_yaml_names_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("endpoints: [\n")
    with pytest.raises(ConfigError, match=f"{broken}: not valid YAML"):
        load_fleet(broken)


def test_from_zero_alarm_period_shorter_than_the_publish_frequency(base: Document) -> None:
    def mutate(d: Document) -> None:
        scaling = model(d)["scaling"]
        scaling["metric_publish_frequency_s"] = 60
        scaling["scale_out"]["alarm"]["period_s"] = 60

    message = error_for(base, mutate)
    assert (
        "scaling.from_zero.alarm.period_s: 10 is shorter than metric_publish_frequency_s "
        "(60)" in message
    )
    assert "allowed: >= 60" in message


def test_scale_in_alarm_period_shorter_than_the_publish_frequency(base: Document) -> None:
    def mutate(d: Document) -> None:
        scaling = model(d)["scaling"]
        scaling["metric_publish_frequency_s"] = 120
        scaling["scale_out"]["alarm"]["period_s"] = 120
        scaling["from_zero"]["alarm"]["period_s"] = 120

    message = error_for(base, mutate)
    assert (
        "scaling.scale_in.alarm.period_s: 60 is shorter than metric_publish_frequency_s "
        "(120)" in message
    )


def test_notifications_default_to_none_and_take_a_topic_and_an_email(base: Document) -> None:
    assert load_fleet().control_plane.notifications == Notifications(None, None)
    document = copy.deepcopy(base)
    document["control_plane"]["notifications"] = {
        "topic_arn": "arn:aws:sns:us-east-1:123456789012:ops-alarms",
        "email": "ops@example.com",
    }
    notifications = parse_fleet(document, SOURCE).control_plane.notifications
    assert notifications.topic_arn == "arn:aws:sns:us-east-1:123456789012:ops-alarms"
    assert notifications.email == "ops@example.com"


def test_notification_topic_that_is_not_an_sns_arn(base: Document) -> None:
    def mutate(d: Document) -> None:
        d["control_plane"]["notifications"] = {"topic_arn": "arn:aws:sqs:us-east-1:1:q"}

    message = error_for(base, mutate)
    assert (
        "control_plane.notifications.topic_arn: 'arn:aws:sqs:us-east-1:1:q' is not an SNS"
        in message
    )
    assert "allowed: arn:PARTITION:sns:REGION:ACCOUNT:TOPIC" in message


def test_notification_email_without_a_domain(base: Document) -> None:
    def mutate(d: Document) -> None:
        d["control_plane"]["notifications"] = {"email": "ops@localhost"}

    message = error_for(base, mutate)
    assert "control_plane.notifications.email: 'ops@localhost' is not an email address" in message


def test_endpoint_metrics_default_and_explicit(base: Document) -> None:
    document = copy.deepcopy(base)
    del document["endpoints"][0]["metrics"]
    endpoint = parse_fleet(document, SOURCE).endpoints[0]
    assert (endpoint.enhanced_metrics, endpoint.detailed_observability) == (True, True)
    document["endpoints"][0]["metrics"] = {"enhanced": False, "detailed_observability": False}
    endpoint = parse_fleet(document, SOURCE).endpoints[0]
    assert (endpoint.enhanced_metrics, endpoint.detailed_observability) == (False, False)


def test_endpoint_metrics_must_be_booleans(base: Document) -> None:
    message = error_for(base, lambda d: d["endpoints"][0].update(metrics={"enhanced": "yes"}))
    assert "endpoints[0].metrics.enhanced: must be true or false; got str 'yes'" in message


def test_a_number_where_text_is_expected_says_to_quote_it(base: Document) -> None:
    message = error_for(base, lambda d: model(d)["image"].update(version=0.3))
    assert "models[0].image.version: must be text; got float 0.3 (quote it to keep it text)" in (
        message
    )
