"""The demo's fleet and traffic choices (pure, milliseconds)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config.fleet import DEFAULT_FLEET, SAGEMAKER_NAME, SAGEMAKER_NAME_MAX, load_fleet
from demo.fleet import (
    demo_endpoints,
    demo_workload,
    derive_neighbour,
    spike_in_flight,
    spike_window_s,
)
from demo.run import DemoRun


def test_the_neighbour_is_smaller_and_keeps_valid_names() -> None:
    base = load_fleet(DEFAULT_FLEET).endpoints[0]
    neighbour = derive_neighbour(base)
    assert neighbour.name == f"{base.name}-neighbour"
    assert neighbour.max_instances == 2
    for model in neighbour.models:
        assert model.endpoint_name == neighbour.name
        assert model.min_copies <= model.initial_copies <= model.max_copies <= 2


def test_a_long_endpoint_name_is_shortened_so_component_names_fit() -> None:
    base = load_fleet(DEFAULT_FLEET).endpoints[0]
    long_name = "e" * 58  # with "-chat" the component name is 63 characters: at the limit
    long = replace(
        base, name=long_name, models=tuple(replace(m, endpoint_name=long_name) for m in base.models)
    )
    neighbour = derive_neighbour(long)
    assert neighbour.name.endswith("-neighbour")
    for model in neighbour.models:
        assert len(model.component_name) <= SAGEMAKER_NAME_MAX
        assert SAGEMAKER_NAME.match(model.component_name)


def test_a_fleet_with_two_endpoints_is_used_as_it_is() -> None:
    fleet = load_fleet(DEFAULT_FLEET)
    other = derive_neighbour(fleet.endpoints[0])
    two = replace(fleet, endpoints=(fleet.endpoints[0], other))
    assert [de.derived_from for de in demo_endpoints(two)] == [None, None]


def test_the_spike_is_sized_to_the_components_threshold() -> None:
    # 0.75 x threshold 8 x 6 copies = 36 requests in flight: the scenario at load ~1.
    model = load_fleet(DEFAULT_FLEET).models[0]
    assert spike_in_flight(model) == pytest.approx(36.0)
    workload, load = demo_workload(model, duration_s=3600, seed=7)
    assert 0.9 <= load <= 1.1
    start, end = spike_window_s(3600)
    assert (start, end) == (600, 1800)
    in_spike = ((workload.arrival_s >= start) & (workload.arrival_s < end)).sum() / (end - start)
    assert in_spike == pytest.approx(25 * load, rel=0.1)


def test_a_run_too_short_for_the_story_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1800 s"):
        DemoRun(load_fleet(DEFAULT_FLEET), duration_s=600)
