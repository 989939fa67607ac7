"""The fleet file's switches for SLO sizing, lookahead, surge, forecast, burst hold and
headroom: their defaults, their errors, and what they put into the scaler's spec and alarms."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.alarms import alarm_plans
from config.fleet import DEFAULT_FLEET, ConfigError, load_fleet, parse_fleet
from config.specs import scaling_spec
from lambdas.control_plane import contract
from lambdas.control_plane.decision import ScalingSpec, Trigger
from lambdas.control_plane.sizing import copies_for_slo

SOURCE = Path("fleet-under-test.yaml")
Document = dict[str, Any]


def with_scaling(**rules: Any) -> Document:
    document: Document = yaml.safe_load(DEFAULT_FLEET.read_text())
    document = copy.deepcopy(document)
    document["endpoints"][0]["models"][0]["scaling"].update(rules)
    return document


def spec_of(document: Document) -> ScalingSpec:
    fleet = parse_fleet(document, SOURCE)
    return scaling_spec(fleet.endpoints[0], fleet.models[0])


def test_defaults_without_the_keys_match_the_default_fleet() -> None:
    document = with_scaling()
    scaling = document["endpoints"][0]["models"][0]["scaling"]
    for key in ("slo_sizing", "lookahead", "surge", "forecast", "burst_hold", "headroom"):
        del scaling[key]
    assert spec_of(document) == spec_of(with_scaling())


def test_the_default_spec_turns_every_rule_on() -> None:
    fleet = load_fleet()
    spec = scaling_spec(fleet.endpoints[0], fleet.models[0])
    model = spec.copy_model
    assert model is not None and model.max_concurrency == 16
    # The calibrated L4 copy with the typical 2048 + 28 tokens (docs/control-plane.md)
    assert model.prefill_s[0] == pytest.approx(0.54, abs=0.01)
    assert model.service_s[0] == pytest.approx(2.41, abs=0.01)
    assert model.service_s[-1] == pytest.approx(3.84, abs=0.01)
    assert (spec.slo_ttft_s, spec.slo_attainment) == (2.0, 0.99)
    assert spec.lookahead_max_growth == 2.0
    assert spec.surge_multiple == 3.0
    assert spec.forecast_interval_s == 300 and spec.forecast_history_days == 14
    assert spec.burst_hold_probability == 0.5
    assert (spec.headroom_copies, spec.headroom_percent) == (0, 0.0)
    # 25 requests/s need 7 copies of it for the SLO
    assert copies_for_slo(25.0, model, ttft_s=2.0, attainment=0.99, max_copies=64).copies == 7


def test_switched_off_rules_leave_the_spec_as_before() -> None:
    off = {"enabled": False}
    spec = spec_of(
        with_scaling(slo_sizing=off, lookahead=off, surge=off, forecast=off, burst_hold=off)
    )
    assert spec.copy_model is None
    assert spec.lookahead_max_growth is None
    assert spec.surge_multiple is None
    assert spec.forecast_interval_s is None
    assert spec.burst_hold_probability is None


def test_the_slo_and_typical_request_reach_the_copy_model() -> None:
    document = with_scaling(slo_sizing={"prompt_tokens": 1024, "output_tokens": 256})
    document["slo"] = {"ttft_s": 1.5}
    spec = spec_of(document)
    assert spec.slo_ttft_s == 1.5
    assert spec.copy_model is not None
    # Half the prompt: about half the prefill; 256 output tokens: far longer in service
    assert spec.copy_model.prefill_s[0] == pytest.approx(0.27, abs=0.01)
    assert spec.copy_model.service_s[0] > 10


def test_the_spec_travels_as_compact_json() -> None:
    spec = spec_of(with_scaling(headroom={"copies": 1, "percent": 20.0}))
    text = json.dumps(spec.to_dict(), separators=(",", ":"))
    assert ScalingSpec.from_dict(json.loads(text)) == spec
    assert len(text) < 1000  # 20 components' specs travel in one document


def test_the_surge_alarm_is_planned_at_the_multiple() -> None:
    fleet = load_fleet()
    plans = {p.trigger: p for p in alarm_plans(fleet.models[0])}
    surge = plans[Trigger.SURGE]
    assert surge.name == "qwen3-8b-chat-surge"
    assert contract.parse_alarm_name(surge.name) == ("qwen3-8b-chat", Trigger.SURGE)
    assert surge.threshold == 24.0
    assert (surge.period_s, surge.datapoints, surge.evaluation_periods) == (10, 1, 1)
    assert surge.metric == plans[Trigger.SCALE_OUT].metric
    document = with_scaling(surge={"enabled": False})
    model = parse_fleet(document, SOURCE).models[0]
    assert Trigger.SURGE not in {p.trigger for p in alarm_plans(model)}


@pytest.mark.parametrize(
    ("rules", "where", "allowed"),
    [
        ({"slo_sizing": {"attainment": 1.0}}, "slo_sizing.attainment", "from 0.5 to 0.9999"),
        ({"slo_sizing": {"prompt_tokens": 0}}, "slo_sizing.prompt_tokens", "from 1 to 1000000"),
        ({"lookahead": {"max_growth": 0.5}}, "lookahead.max_growth", "from 1.0 to 10.0"),
        ({"surge": {"multiple": 1.0}}, "surge.multiple", "from 1.1 to 100.0"),
        ({"forecast": {"interval_minutes": 0}}, "forecast.interval_minutes", "from 1 to 60"),
        ({"forecast": {"history_days": 15}}, "forecast.history_days", "from 1 to 14"),
        ({"burst_hold": {"min_probability": 0}}, "burst_hold.min_probability", "from 0.05"),
        ({"headroom": {"percent": -1.0}}, "headroom.percent", "from 0.0 to 1000.0"),
        ({"headroom": {"copies": 1.5}}, "headroom.copies", "must be int"),
        ({"surge": {"enabled": "yes"}}, "surge.enabled", "must be true or false"),
        ({"forecast": {"every": 5}}, "forecast: unknown key every", "interval_minutes"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(
    rules: Document, where: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_fleet(with_scaling(**rules), SOURCE)
    message = str(caught.value)
    assert f"endpoints[0].models[0].scaling.{where}" in message
    assert allowed in message
