"""The cold-start model reproduces AWS's published Qwen3-8B timings and behaves sensibly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.coldstart import (
    MEASURED_CACHED_TOTAL_S,
    MEASURED_DOWNLOAD_ALONE_S,
    MEASURED_DOWNLOAD_SHARED_S,
    MEASURED_PULL_S,
    MEASURED_UNCACHED_TOTAL_S,
    cold_start,
)
from config.instance_types import INSTANCE_TYPES
from sim.cli import main


def within(actual: float, expected: float, tolerance: float) -> bool:
    return abs(actual - expected) <= tolerance * expected


@pytest.fixture(scope="module")
def qwen() -> dict:
    return cold_start("ml.g6.2xlarge", image_gb=17.7, model_gb=16)


def test_totals_match_the_published_measurement_within_5_percent(qwen: dict) -> None:
    assert within(qwen["uncached"].total_s, MEASURED_UNCACHED_TOTAL_S, 0.05)
    assert within(qwen["cached"].total_s, MEASURED_CACHED_TOTAL_S, 0.05)


def test_phase_times_match_the_published_measurement_within_10_percent(qwen: dict) -> None:
    assert within(qwen["uncached"].image_pull_s, MEASURED_PULL_S, 0.10)
    assert within(qwen["uncached"].model_download_s, MEASURED_DOWNLOAD_SHARED_S, 0.10)
    assert within(qwen["cached"].model_download_s, MEASURED_DOWNLOAD_ALONE_S, 0.10)
    # Everything that is neither pull nor download: 258 - 77 = 181 s.
    c = qwen["cached"]
    assert within(
        c.provisioning_s + c.container_start_s + c.weights_load_s,
        MEASURED_CACHED_TOTAL_S - MEASURED_DOWNLOAD_ALONE_S,
        0.10,
    )
    assert qwen["cached"].image_pull_s == 0


def test_warm_instance_skips_provisioning_and_transfers(qwen: dict) -> None:
    w = qwen["warm_instance"]
    assert (w.provisioning_s, w.image_pull_s, w.model_download_s) == (0, 0, 0)
    assert w.total_s < qwen["cached"].total_s < qwen["uncached"].total_s


def test_total_is_the_sum_of_sequential_phases_with_the_transfer_window(qwen: dict) -> None:
    for p in qwen.values():
        expected = (
            p.provisioning_s
            + max(p.image_pull_s, p.model_download_s)
            + p.container_start_s
            + p.weights_load_s
        )
        assert p.total_s == pytest.approx(expected)


sizes = st.floats(min_value=0.5, max_value=200)
types = st.sampled_from(sorted(INSTANCE_TYPES))


@given(
    types,
    sizes,
    sizes,
    st.floats(min_value=1, max_value=400),
    st.floats(min_value=1.01, max_value=10),
)
def test_a_faster_network_is_never_slower(
    kind: str, image: float, model: float, gbps: float, factor: float
) -> None:
    slow = cold_start(kind, image_gb=image, model_gb=model, network_gbps=gbps)
    fast = cold_start(kind, image_gb=image, model_gb=model, network_gbps=gbps * factor)
    for path in slow:
        assert fast[path].total_s <= slow[path].total_s + 1e-9


@given(types, sizes, sizes)
def test_a_cache_hit_is_never_slower(kind: str, image: float, model: float) -> None:
    p = cold_start(kind, image_gb=image, model_gb=model)
    assert p["warm_instance"].total_s <= p["cached"].total_s <= p["uncached"].total_s


@given(types, sizes, sizes, st.floats(min_value=0.1, max_value=50))
def test_bigger_artifacts_never_start_faster(
    kind: str, image: float, model: float, extra: float
) -> None:
    base = cold_start(kind, image_gb=image, model_gb=model)
    bigger = cold_start(kind, image_gb=image + extra, model_gb=model + extra)
    for path in base:
        assert bigger[path].total_s >= base[path].total_s - 1e-9


def test_faster_instances_predict_faster_transfers_but_not_faster_unpacking() -> None:
    small = cold_start("ml.g6.2xlarge", image_gb=17.7, model_gb=16)
    big = cold_start("ml.g6.48xlarge", image_gb=17.7, model_gb=16)
    assert big["cached"].model_download_s < small["cached"].model_download_s / 5
    # Layer decompression runs on one core: the pull keeps most of its time.
    assert big["uncached"].image_pull_s > 0.5 * small["uncached"].image_pull_s


def test_bad_input_names_what_is_wrong() -> None:
    with pytest.raises(KeyError, match=r"unknown instance type 'ml\.x9'.*known: ml\.g4dn"):
        cold_start("ml.x9", image_gb=1, model_gb=1)
    with pytest.raises(ValueError, match="model_gb must be a finite number of GB >= 0"):
        cold_start("ml.g6.2xlarge", image_gb=1, model_gb=-3)
    with pytest.raises(ValueError, match="network_gbps must be a finite number > 0"):
        cold_start("ml.g6.2xlarge", image_gb=1, model_gb=1, network_gbps=0)


def test_cli_prints_each_path_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "coldstart",
                "--instance-type",
                "ml.g6.2xlarge",
                "--image-gb",
                "17.7",
                "--model-gb",
                "16",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"uncached", "cached", "warm_instance"}
    assert out["cached"]["total_s"] == pytest.approx(258, rel=0.05)
    assert {
        "provisioning_s",
        "image_pull_s",
        "model_download_s",
        "container_start_s",
        "weights_load_s",
        "total_s",
    } <= set(out["uncached"])


def test_cli_rejects_an_unknown_instance_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["coldstart", "--instance-type", "ml.nope", "--image-gb", "1", "--model-gb", "1"]) == 2
    )
    assert "unknown instance type 'ml.nope'" in capsys.readouterr().err
