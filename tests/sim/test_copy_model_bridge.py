"""The simulator's calibrated copy speed, as the decision core's ``CopyModel``: the bridge the
synth and the simulator will use to size copies for the SLO."""

from __future__ import annotations

import pytest

from config.fleet import load_fleet
from config.serving import copy_speed
from lambdas.control_plane.copy_model import CopyModel
from lambdas.control_plane.sizing import copies_for_slo, max_concurrency_per_copy_for_slo

PROMPT_TOKENS, OUTPUT_TOKENS = 2048, 28  # the Azure code trace's means (docs/scaling-model.md)


def test_every_default_model_becomes_a_valid_copy_model() -> None:
    fleet = load_fleet()
    for endpoint in fleet.endpoints:
        for model in endpoint.models:
            speed = copy_speed(endpoint.instance_type, model)
            levels = range(1, speed.max_concurrency + 1)
            copy = CopyModel.from_token_rates(
                [speed.prefill_tokens_per_s(n) for n in levels],
                [speed.decode_tokens_per_s(n) for n in levels],
                prompt_tokens=PROMPT_TOKENS,
                output_tokens=OUTPUT_TOKENS,
            )
            # Built from the curves at the ends: alone, and full
            alone = PROMPT_TOKENS / speed.prefill_tokens_per_s(1)
            assert copy.prefill_s[0] == pytest.approx(alone)
            assert copy.service_s[-1] > copy.service_s[0]  # the copy slows under load
            # The threshold that keeps the SLO on one copy lies inside the copy's slots
            per_copy = max_concurrency_per_copy_for_slo(
                copy, copies=1, ttft_s=fleet.slo_ttft_s, attainment=0.99
            )
            assert 0 < per_copy < speed.max_concurrency
            # The copies that keep up with the load one full copy completes are more than one
            full_rate = speed.max_concurrency / copy.service_s[-1]
            sized = copies_for_slo(
                full_rate, copy, ttft_s=fleet.slo_ttft_s, attainment=0.99, max_copies=64
            )
            assert sized.met and sized.copies >= 2
