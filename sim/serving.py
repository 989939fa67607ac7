"""How fast one copy serves, as a function of how many requests it is serving at once.

A copy of an LLM on an LMI/vLLM container batches its active requests: every decode step reads
the weights once and produces one token for each active request. So aggregate throughput rises
with concurrency while each request's own token rate falls, and a prompt's prefill (compute
bound) shares the GPU with everyone else's decoding.

API (the simulator codes against it):

* ``copy_speed(instance_type, model) -> CopySpeed``
* ``CopySpeed.max_concurrency``: requests one copy serves at once (``serving.max_concurrency``)
* ``CopySpeed.prefill_tokens_per_s(n)``: one request's prefill rate when ``n`` requests are
  active on the copy (``n`` counts the request itself)
* ``CopySpeed.decode_tokens_per_s(n)``: one request's decode rate when ``n`` are active
* ``CopySpeed.aggregate_decode_tokens_per_s(n)``: ``n x decode_tokens_per_s(n)``

The calibration, its sources and its error against each are in docs/scaling-model.md, "Copy
speed under load".
"""

from __future__ import annotations

from dataclasses import dataclass

from config.fleet import Model


@dataclass(frozen=True)
class CopySpeed:
    """One copy's token rates as functions of its concurrency (1..``max_concurrency``)."""

    max_concurrency: int

    def prefill_tokens_per_s(self, concurrency: int) -> float:
        """One request's prefill rate (tokens/s) when ``concurrency`` requests are active."""
        raise NotImplementedError("calibration in progress")

    def decode_tokens_per_s(self, concurrency: int) -> float:
        """One request's decode rate (tokens/s) when ``concurrency`` requests are active."""
        raise NotImplementedError("calibration in progress")

    def aggregate_decode_tokens_per_s(self, concurrency: int) -> float:
        """Tokens/s the copy decodes in total with ``concurrency`` active requests."""
        return concurrency * self.decode_tokens_per_s(concurrency)


def copy_speed(instance_type: str, model: Model) -> CopySpeed:
    """The speed curves of one copy of ``model`` on ``instance_type`` (an ``ml.`` type name)."""
    raise NotImplementedError("calibration in progress")
