"""How fast one copy serves, as a function of how many requests it is serving at once.

A copy of an LLM on an LMI/vLLM container batches its active requests: every decode step reads
the weights once and produces one token for each active request. So aggregate throughput rises
with concurrency while each request's own token rate falls, and a prompt's prefill (compute
bound) shares the GPU with everyone else's work.

API (the simulator codes against it):

* ``copy_speed(instance_type, model) -> CopySpeed``
* ``CopySpeed.max_concurrency``: requests one copy serves at once (``serving.max_concurrency``)
* ``CopySpeed.prefill_tokens_per_s(n)``: one request's prefill rate when ``n`` requests are
  active on the copy (``n`` counts the request itself), 1 <= n <= max_concurrency
* ``CopySpeed.decode_tokens_per_s(n)``: one request's decode rate when ``n`` are active
* ``CopySpeed.aggregate_decode_tokens_per_s(n)``: ``n x decode_tokens_per_s(n)``

The model (few parameters, each fitted or taken from a data sheet):

* Batch-1 decode reads every weight once per token::

      t1 = weight_bytes / (gpus x bandwidth x DECODE_BANDWIDTH_EFFICIENCY x tp)

  where ``weight_bytes`` is the model's ``model_gb``, ``bandwidth`` the GPU's data-sheet memory
  bandwidth and ``tp`` is 1 for a one-GPU copy and ``TENSOR_PARALLEL_EFFICIENCY`` for a copy
  spread over several GPUs (tensor parallel).
* With ``n`` active requests each step also reads every request's KV cache, computes its token
  and interleaves newcomers' prefills, so one request's time per token grows linearly::

      t(n) = t1 x (1 + DECODE_SLOWDOWN_PER_REQUEST x (n - 1))
      decode_tokens_per_s(n) = 1 / t(n);  aggregate = n / t(n)  (rises, bends towards 1/(t1 a))

* Prefill is compute bound: ``P1 = gpus x tflops x PREFILL_COMPUTE_UTILISATION x tp /
  (2 x parameters)`` tokens/s for a request alone (parameters = weight bytes / 2, BF16), shared
  with the other active requests::

      prefill_tokens_per_s(n) = P1 / (1 + PREFILL_SLOWDOWN_PER_REQUEST x (n - 1))

Calibration (each published figure, the model's, and the error, are tabled in
docs/scaling-model.md, "Copy speed under load"; ``PUBLISHED`` below holds them for the tests):

* "Benchmark: Llama 3 8b Instruct on NVIDIA A10G" (llmperf on EC2 g5.2xlarge, vLLM 0.4.3,
  550 input / 150 output tokens, concurrency 1, 4, 16; inter-token latency and time to first
  token), a benchmark write-up published on GitHub whose repository address our copy of it does
  not carry. Fitted.
* John Musgrave, "vLLM throughput-latency sweep on NVIDIA A100",
  https://johnmusgrave.com/p/vllm-throughput-latency-sweep-on (vLLM 0.23, Llama-3.1-8B-Instruct,
  1,024 in / 128 out): 75 tokens/s per request at concurrency 1, 6.6x the aggregate at 8. Fitted.
* Hugging Face, "Llama 2 on Amazon SageMaker a Benchmark",
  https://huggingface.co/blog/llama-sagemaker-benchmark, raw data
  https://github.com/philschmid/text-generation-inference-tests/blob/master/results/sagemaker.csv
  (TGI 1.0.3, Llama-2-7B on ml.g5.2xlarge and ml.g5.12xlarge): the tensor-parallel efficiency and
  a cross-check (not fitted: Llama 2 has no grouped-query attention, so its KV cache is four
  times an 8B Llama 3's and it slows faster under load).
* aws-samples/foundation-model-benchmarking-tool, llama3-1-8b-g5.4xl-ec2 results
  (https://github.com/aws-samples/foundation-model-benchmarking-tool, LMI 0.29 lmi-dist,
  Llama-3.1-8B on one A10G, concurrency 1 and 2): a cross-check on the LMI container.
* L4 (ml.g6): no published concurrency sweep of an 8B model on one L4 was found; its curves are
  the A10G's shape scaled by the L4's data-sheet bandwidth and compute, and say so.

The fleet's ``serving`` block: ``max_concurrency`` bounds the curves. The two rate fields
(``prefill_tokens_per_s``, ``decode_tokens_per_s``) are *not* read here: the calibrated physics
gives a copy's speed on each instance type. A caller holding measured batch-1 rates for a copy
passes them as ``batch1_decode_tokens_per_s`` / ``batch1_prefill_tokens_per_s``; the load shape
stays the calibrated one.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .domain import Model
from .instance_types import instance_type as instance_facts

# Share of data-sheet memory bandwidth a batch-1 decode step achieves. Published: 87 % (A10G,
# vLLM 0.4.3, 8B), 77 % (A100, vLLM 0.23, 8B), 73 % (A10G, TGI 1.0.3, Llama 2 7B).
DECODE_BANDWIDTH_EFFICIENCY = 0.80
# Share of data-sheet dense BF16 throughput a lone prefill achieves (fitted to the A10G's time
# to first token at concurrency 1, which includes the first decode step and HTTP).
PREFILL_COMPUTE_UTILISATION = 0.50
# Growth of one request's time per token per other active request, as a share of t1 (fitted:
# A10G 0.035 at 4 and 0.026 at 16; A100 0.030 at 8).
DECODE_SLOWDOWN_PER_REQUEST = 0.028
# Growth of one request's prefill time per other active request (fitted: A10G time to first
# token at concurrency 4 and 16, 0.083 and 0.081).
PREFILL_SLOWDOWN_PER_REQUEST = 0.08
# Speed-up of a copy over g GPUs, per GPU (tensor parallel): Llama-2-7B on 4 x A10G ran 1.84x
# its one-GPU speed at batch 1 (TGI 1.0.3, Hugging Face's benchmark): 1.84 / 4 = 0.46. A small
# model on PCIe GPUs is the unfavourable case; larger models and NVLink do better.
TENSOR_PARALLEL_EFFICIENCY = 0.46
BYTES_PER_PARAMETER = 2.0  # BF16 weights


@dataclass(frozen=True)
class CopySpeed:
    """One copy's token rates as functions of its concurrency (1..``max_concurrency``)."""

    max_concurrency: int
    batch1_decode_tokens_per_s: float
    batch1_prefill_tokens_per_s: float
    decode_slowdown: float = DECODE_SLOWDOWN_PER_REQUEST
    prefill_slowdown: float = PREFILL_SLOWDOWN_PER_REQUEST

    def __post_init__(self) -> None:
        if isinstance(self.max_concurrency, bool) or not isinstance(self.max_concurrency, int):
            raise ValueError(f"max_concurrency must be an int >= 1; got {self.max_concurrency!r}")
        if self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1; got {self.max_concurrency}")
        for name in ("batch1_decode_tokens_per_s", "batch1_prefill_tokens_per_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
        for name in ("decode_slowdown", "prefill_slowdown"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")

    def _check(self, concurrency: int) -> int:
        # numbers.Integral: numpy's integer types count too.
        if isinstance(concurrency, bool) or not isinstance(concurrency, numbers.Integral):
            raise ValueError(
                f"concurrency must be an int from 1 to {self.max_concurrency}; got {concurrency!r}"
            )
        if not 1 <= concurrency <= self.max_concurrency:
            raise ValueError(
                f"concurrency {concurrency} is outside 1..{self.max_concurrency} "
                "(serving.max_concurrency); requests beyond it wait in the queue"
            )
        return int(concurrency)

    def prefill_tokens_per_s(self, concurrency: int) -> float:
        """One request's prefill rate (tokens/s) when ``concurrency`` requests are active."""
        n = self._check(concurrency)
        return self.batch1_prefill_tokens_per_s / (1.0 + self.prefill_slowdown * (n - 1))

    def decode_tokens_per_s(self, concurrency: int) -> float:
        """One request's decode rate (tokens/s) when ``concurrency`` requests are active."""
        n = self._check(concurrency)
        return self.batch1_decode_tokens_per_s / (1.0 + self.decode_slowdown * (n - 1))

    def aggregate_decode_tokens_per_s(self, concurrency: int) -> float:
        """Tokens/s the copy decodes in total with ``concurrency`` active requests."""
        return concurrency * self.decode_tokens_per_s(concurrency)

    def time_to_first_token_s(self, prompt_tokens: float, concurrency: int) -> float:
        """Seconds to prefill ``prompt_tokens`` at ``concurrency`` (no queue wait)."""
        return prompt_tokens / self.prefill_tokens_per_s(concurrency)


def batch1_rates(instance_type: str, model_gb: float, accelerators: int = 1) -> tuple[float, float]:
    """(decode, prefill) tokens/s of one request alone on a copy, from the physics above.

    ``model_gb`` is the weights' size (decimal GB); ``accelerators`` the GPUs the copy uses.
    """
    facts = instance_facts(instance_type)
    if not (math.isfinite(model_gb) and model_gb > 0):
        raise ValueError(f"model_gb must be a number > 0; got {model_gb!r}")
    if isinstance(accelerators, bool) or not isinstance(accelerators, int) or accelerators < 1:
        raise ValueError(f"accelerators must be an int >= 1; got {accelerators!r}")
    if accelerators > facts.gpus:
        raise ValueError(
            f"a copy on {accelerators} GPUs does not fit {instance_type} "
            f"({facts.gpus} GPU{'s' if facts.gpus > 1 else ''}); allowed: 1 to {facts.gpus}"
        )
    tp = 1.0 if accelerators == 1 else TENSOR_PARALLEL_EFFICIENCY
    weight_bytes = model_gb * 1e9
    bandwidth = accelerators * facts.gpu_memory_bandwidth_gb_s * 1e9 * tp
    decode = bandwidth * DECODE_BANDWIDTH_EFFICIENCY / weight_bytes
    flops = accelerators * facts.gpu_bf16_dense_tflops * 1e12 * tp
    parameters = weight_bytes / BYTES_PER_PARAMETER
    prefill = flops * PREFILL_COMPUTE_UTILISATION / (2.0 * parameters)
    return decode, prefill


def copy_speed(
    instance_type: str,
    model: Model,
    *,
    batch1_decode_tokens_per_s: float | None = None,
    batch1_prefill_tokens_per_s: float | None = None,
) -> CopySpeed:
    """The speed curves of one copy of ``model`` on ``instance_type`` (an ``ml.`` type name).

    Batch-1 rates come from the instance's GPU and the model's size and GPU count unless given
    (measured rates of this copy); ``serving.max_concurrency`` bounds the curves.
    """
    decode, prefill = batch1_rates(instance_type, model.model_gb, model.accelerators)
    return CopySpeed(
        max_concurrency=model.serving.max_concurrency,
        batch1_decode_tokens_per_s=decode
        if batch1_decode_tokens_per_s is None
        else batch1_decode_tokens_per_s,
        batch1_prefill_tokens_per_s=prefill
        if batch1_prefill_tokens_per_s is None
        else batch1_prefill_tokens_per_s,
    )


# --- Published figures the calibration is judged against -----------------------------------


@dataclass(frozen=True)
class Published:
    """One published measurement and how to compare the model with it.

    ``metric`` is ``decode`` (one request's decode tokens/s), ``prefill`` (prompt tokens over the
    published time to first token), ``aggregate`` (the copy's decode tokens/s in total) or
    ``completion`` (output tokens of all ``concurrency`` requests over one request's whole
    latency, prefill of ``prompt_tokens`` included).
    ``fitted`` points are held to ``TOLERANCE``; the others are cross-checks with known reasons
    to differ, tabled with their error.
    """

    source: str
    instance_type: str
    model: str
    model_gb: float
    accelerators: int
    concurrency: int
    metric: str
    value: float
    fitted: bool
    prompt_tokens: float = 0.0
    output_tokens: float = 0.0

    def model_value(self) -> float:
        decode, prefill = batch1_rates(self.instance_type, self.model_gb, self.accelerators)
        speed = CopySpeed(max(self.concurrency, 1), decode, prefill)
        if self.metric == "decode":
            return speed.decode_tokens_per_s(self.concurrency)
        if self.metric == "prefill":
            return speed.prefill_tokens_per_s(self.concurrency)
        if self.metric == "aggregate":
            return speed.aggregate_decode_tokens_per_s(self.concurrency)
        if self.metric == "completion":
            n = self.concurrency
            latency = self.prompt_tokens / speed.prefill_tokens_per_s(
                n
            ) + self.output_tokens / speed.decode_tokens_per_s(n)
            return n * self.output_tokens / latency
        raise ValueError(
            f"unknown metric {self.metric!r}; allowed: decode, prefill, aggregate, completion"
        )

    def error(self) -> float:
        """(model - published) / published."""
        return self.model_value() / self.value - 1.0


TOLERANCE = 0.15  # fitted points: the model within 15 % of each published figure

_A10G_VLLM = "llmperf A10G (vLLM 0.4.3, Llama-3-8B, 550/150)"
_A100_VLLM = "Musgrave A100 sweep (vLLM 0.23, Llama-3.1-8B, 1024/128)"
_TGI = "Hugging Face SageMaker benchmark (TGI 1.0.3, Llama-2-7B)"
_LMI = "FMBench g5.4xlarge (LMI 0.29 lmi-dist, Llama-3.1-8B, 837/43)"
_LLAMA3_8B_GB = 16.06  # 8.03 B parameters in BF16
_LLAMA2_7B_GB = 13.48  # 6.74 B parameters in BF16

PUBLISHED: tuple[Published, ...] = (
    # Inter-token latency 30.65, 33.89, 42.67 ms; time to first token 137, 171, 303 ms.
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 1, "decode", 32.63, True
    ),
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 4, "decode", 29.51, True
    ),
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 16, "decode", 23.44, True
    ),
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 1, "prefill", 4006, True
    ),
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 4, "prefill", 3209, True
    ),
    Published(
        _A10G_VLLM, "ml.g5.2xlarge", "Llama-3-8B", _LLAMA3_8B_GB, 1, 16, "prefill", 1817, True
    ),
    # 75 tokens/s alone; aggregate 6.6 x 75 = 495 tokens/s at concurrency 8.
    Published(
        _A100_VLLM, "ml.p4d.24xlarge", "Llama-3.1-8B", _LLAMA3_8B_GB, 1, 1, "decode", 75.0, True
    ),
    Published(
        _A100_VLLM, "ml.p4d.24xlarge", "Llama-3.1-8B", _LLAMA3_8B_GB, 1, 8, "aggregate", 495.0, True
    ),
    # Median ms per generated token 30.96, 37.94, 44.93, 60.86 (1, 5, 10, 20 users); TP 4: 16.81.
    Published(_TGI, "ml.g5.2xlarge", "Llama-2-7B", _LLAMA2_7B_GB, 1, 1, "decode", 32.30, False),
    Published(_TGI, "ml.g5.2xlarge", "Llama-2-7B", _LLAMA2_7B_GB, 1, 5, "decode", 26.36, False),
    Published(_TGI, "ml.g5.2xlarge", "Llama-2-7B", _LLAMA2_7B_GB, 1, 10, "decode", 22.26, False),
    Published(_TGI, "ml.g5.2xlarge", "Llama-2-7B", _LLAMA2_7B_GB, 1, 20, "decode", 16.43, False),
    Published(_TGI, "ml.g5.12xlarge", "Llama-2-7B", _LLAMA2_7B_GB, 4, 1, "decode", 59.48, False),
    # FMBench's completion_token_throughput: 40 tokens in 1.68 s, 43 in 2.10 s, prefill included.
    Published(
        _LMI,
        "ml.g5.4xlarge",
        "Llama-3.1-8B",
        _LLAMA3_8B_GB,
        1,
        1,
        "completion",
        23.0,
        False,
        837,
        40,
    ),
    Published(
        _LMI,
        "ml.g5.4xlarge",
        "Llama-3.1-8B",
        _LLAMA3_8B_GB,
        1,
        2,
        "completion",
        40.0,
        False,
        837,
        43,
    ),
)
