"""The local end-to-end run tells the story it promises: a daily spike met by the forecaster
ahead of time, the rest of it by scale-out in time, scale-in later, an endpoint deleted and
cleaned up, its neighbour untouched.

The run is built once for the module (about 20 s) and every test reads a different fact of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.fleet import DEFAULT_FLEET, load_fleet
from demo.checks import scale_out_deadline_s
from demo.render import Style, timeline_lines, write_report
from demo.results import DemoResult
from demo.run import run_demo
from lambdas.control_plane import clock

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    log = tmp_path_factory.mktemp("demo") / "handler-logs.jsonl"
    return run_demo(load_fleet(DEFAULT_FLEET), log_path=log)


@pytest.fixture(scope="module")
def main_component(result: DemoResult) -> str:
    return result.endpoints[0].endpoint.models[0].component_name


@pytest.fixture(scope="module")
def neighbour(result: DemoResult) -> str:
    return result.endpoints[1].name


def test_a_one_endpoint_fleet_gets_a_labelled_neighbour(result: DemoResult) -> None:
    # Given the default fleet with its single endpoint, the demo adds a smaller neighbour.
    assert len(load_fleet(DEFAULT_FLEET).endpoints) == 1
    assert [de.derived_from for de in result.endpoints] == [None, result.endpoints[0].name]
    assert "derived neighbour" in result.endpoints[1].label
    assert result.endpoints[1].endpoint.max_instances <= 2


def forecast_raise(result: DemoResult, component: str) -> tuple[float, int, float]:
    """(time, target, predicted ready time) of the forecaster's first raise of ``component``."""
    first = next(e for e in result.forecasts(component) if e.data["action"] == "scaled")
    return first.t_s, int(first.data["target"]), float(first.data["ready_s"])


def test_before_the_spike_only_the_forecaster_raises_copies(
    result: DemoResult, main_component: str
) -> None:
    # The spike recurs daily (a week of it, at a third of today's rate, is in CloudWatch): the
    # forecaster asks for the copies it needs at least one ready time before it starts.
    initial = result.endpoints[0].endpoint.models[0].initial_copies
    at, target, ready_s = forecast_raise(result, main_component)
    assert target > initial
    assert result.spike_s[0] - at >= ready_s
    before = [s for s in result.series(main_component) if s.t_s < result.spike_s[0]]
    assert {s.desired for s in before if s.t_s < at} == {initial}
    assert {s.desired for s in before if s.t_s >= at} == {target}
    assert before[-1].current == target, "the forecast copies serve when the spike starts"
    # The scaler itself changed nothing before the spike. The neighbour has no previous days:
    # its forecaster predicts nothing and raises nothing; its floor is the recent peak alone.
    assert not [
        e
        for e in result.decisions(main_component)
        if e.data.get("action") == "scaled" and e.t_s < result.spike_s[0]
    ]
    neighbour = result.endpoints[1].endpoint.models[0].component_name
    outcomes = result.forecasts(neighbour)
    assert outcomes and {e.data["action"] for e in outcomes} == {"held"}
    assert all(
        e.data["reason"] == "NoHistory" or "no history for the coming minutes" in e.text
        for e in outcomes
    )


def test_scale_out_is_decided_within_the_alarm_detection_time(
    result: DemoResult, main_component: str
) -> None:
    # When the spike, larger than the week's, starts at 1/6 of the run, the scale-out alarm
    # (2 of 3 x 10 s, 30 s of publishing delay) fires and the scaler asks for more copies than
    # the forecast held, by the deadline.
    series = result.series(main_component)
    _, held, _ = forecast_raise(result, main_component)
    raised = next(s for s in series if s.desired > held)
    assert result.spike_s[0] < raised.t_s <= scale_out_deadline_s(result) + 10
    alarm = next(
        e
        for e in result.events
        if e.kind == "alarm"
        and e.component == main_component
        and e.data["trigger"] == "scale_out"
        and e.data["state"] == "ALARM"
    )
    assert alarm.t_s >= result.spike_s[0]
    assert alarm.t_s <= raised.t_s


def test_new_copies_serve_after_the_cold_start_models_time(
    result: DemoResult, main_component: str
) -> None:
    # Then moto's CurrentCopyCount reaches the first raise's target (the forecaster's) once a
    # new instance with the image cached has come up (258 s for the default fleet), not before
    # and not much later; the tracker times it on that path.
    series = result.series(main_component)
    initial = series[0].desired
    raised = next(s for s in series if s.desired > initial)
    served = next(s for s in series if s.t_s >= raised.t_s and s.current >= raised.desired)
    ready_s = result.ready_s[main_component]["cached"]
    assert ready_s - 10 <= served.t_s - raised.t_s <= ready_s + 20
    tracker = [e for e in result.events if e.kind == "tracker" and e.component == main_component]
    assert tracker and tracker[0].data["path"] == "cached"
    assert tracker[0].data["seconds"] >= ready_s


def test_copies_are_removed_only_after_the_spike(result: DemoResult, main_component: str) -> None:
    series = result.series(main_component)
    peak = max(s.desired for s in series)
    peak_end = max(s.t_s for s in series if s.desired == peak)
    assert peak_end >= result.spike_s[1], "no copy was removed during the spike"
    last = series[-1]
    assert last.desired < peak and last.current == last.desired
    removals = [
        e
        for e in result.decisions(main_component)
        if e.data.get("action") == "scaled" and e.data["target"] < e.data["desired"]
    ]
    assert removals and all(e.data["reason"] == "ScaleIn" for e in removals)
    assert all(e.t_s > result.spike_s[1] for e in removals)


def test_moto_and_the_simulation_agree_on_serving_copies(result: DemoResult) -> None:
    assert result.drift_ticks == 0
    assert all(s.current == s.sim_serving for s in result.samples)


def test_the_deleted_endpoints_rows_and_reevaluations_are_gone(result: DemoResult) -> None:
    c = result.cleanup
    assert c.deleted_endpoint == result.endpoints[0].name
    assert c.rows_before[c.deleted_endpoint] > 0
    assert c.rows_after[c.deleted_endpoint] == 0
    assert c.queue_messages_after[c.deleted_endpoint] == 0
    # The state change purged; CloudTrail's DeleteEndpoint and the custom resource found
    # nothing left (idempotent).
    deleted = [int(r.get("rows_deleted", r.get("Data", {}).get("RowsDeleted", 0))) for r in c.runs]
    assert deleted[0] == c.rows_before[c.deleted_endpoint]
    assert deleted[1:] == [0, 0]


def test_the_neighbour_is_untouched(result: DemoResult, neighbour: str) -> None:
    c = result.cleanup
    assert c.rows_before[neighbour] > 0
    assert c.others_identical == {neighbour: True}
    assert c.other_copies_before == c.other_copies_after
    # It scaled on its own load, within its own limits.
    component = result.endpoints[1].endpoint.models[0]
    peak = max(s.desired for s in result.series(component.component_name))
    assert 1 < peak <= component.max_copies


def test_every_check_passes_and_no_handler_failed(result: DemoResult) -> None:
    assert [c.name for c in result.checks if not c.ok] == []
    assert not [e for e in result.events if e.kind == "error"]
    assert result.invocations["scaler"] > 0 and result.invocations["cleanup"] == 3


def test_the_run_leaves_the_process_as_it_found_it(result: DemoResult) -> None:
    assert "AWS_ENDPOINT_URL" not in os.environ or not os.environ["AWS_ENDPOINT_URL"].startswith(
        result.server_url
    )
    assert abs(clock.now() - __import__("time").time()) < 60


def test_report_and_timeline_are_written(result: DemoResult, tmp_path: Path) -> None:
    report = write_report(result, tmp_path)
    text = report.read_text()
    assert "| PASS | scale-out in time |" in text
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = timeline_lines(result, Style(False))
    assert any("scaled 1 -> " in line for line in lines)
    assert not any("\033[" in line for line in lines), "no colour unless asked for"
