"""How long a new inference-component copy takes to serve, by path, from instance-type facts.

Three paths, fastest last:

* ``uncached``: a new instance whose endpoint has never run the image. SageMaker provisions the
  instance, pulls the image from ECR while it downloads the model artifacts from S3 (the two
  share the instance's network), starts the container and loads the weights into the GPU.
* ``cached``: a new instance, image already in the endpoint's container cache: no pull, the
  model download has the network to itself.
* ``warm_instance``: a copy placed on an instance that is already running with data caching
  (``DataCacheConfig.EnableCaching``): image and artifacts are local; only the container start
  and the weight load remain.

The phases run in this order (the transfer window is the longer of pull and download)::

    total = provisioning + max(image pull, model download) + container start + weights load

Parameters. Three are fitted on AWS's one published measurement (Qwen3-8B, LMI container, 17.7 GB
image, 16 GB of artifacts, ml.g6.2xlarge with "up to 10 Gbps"; docs/scaling-model.md has the
table), two are stated priors; nothing else is tuned:

* ``NETWORK_EFFICIENCY`` (fitted): the share of the published network bandwidth a transfer
  actually achieves. Alone, the 16 GB download took 77 s: 16 / 77 = 0.208 GB/s out of
  10 Gbps = 1.25 GB/s, so 0.166.
* Two transfers running together split that rate equally (an assumption, not fitted: TCP's
  fairness between two bulk flows). The pull's bytes cross the network first; then the layers
  are decompressed and unpacked (``EXTRACT_GB_S``, fitted): with 0.208 GB/s shared, the download
  ends at (16 + 16) / 0.208 = 154 s, the pull's transfer at (17.7 + 16) / 0.208 = 162 s, and
  the remaining 333 - 162 = 171 s of the measured pull unpack 17.7 GB at 0.104 GB/s. Gzip
  decompresses a layer on one core, so this rate does not grow with the instance's vCPUs.
* ``WEIGHTS_LOAD_GB_S`` (prior): reading safetensors from local disk into GPU memory, 1 GB/s.
* ``CONTAINER_START_S`` (prior): the serving stack's own start (web front end, Python workers,
  the engine's memory profiling and CUDA graph capture), 60 s, independent of the instance.
* ``PROVISIONING_S`` (fitted, the residual): the cached path measured 258 s, of which 77 s were
  the download; 258 - 77 - 60 - 16 = 105 s remain for getting the instance.

Predictions for other sizes and instance types scale the transfers with the table's network
bandwidth, capped at ``S3_CEILING_GBPS``: AWS quotes up to 100 Gb/s from S3 to a single instance
with its CRT-based clients, so 400 and 3200 Gbps instances are not assumed to download faster.
The ``network_burst`` flag is not used: the fit was made on a burst instance and already
includes whatever its sustained rate is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .instance_types import instance_type as instance_facts

# --- The one measurement the model is fitted on (docs/scaling-model.md) --------------------
CALIBRATION_INSTANCE = "ml.g6.2xlarge"
CALIBRATION_IMAGE_GB = 17.7
CALIBRATION_MODEL_GB = 16.0
MEASURED_PULL_S = 333.0
MEASURED_DOWNLOAD_SHARED_S = 168.0
MEASURED_DOWNLOAD_ALONE_S = 77.0
MEASURED_UNCACHED_TOTAL_S = 525.0
MEASURED_CACHED_TOTAL_S = 258.0

# --- Stated priors ---------------------------------------------------------------------------
WEIGHTS_LOAD_GB_S = 1.0
CONTAINER_START_S = 60.0
S3_CEILING_GBPS = 100.0

GBIT_PER_GB = 8.0

# --- Fitted (computed here from the measurement, so the derivation cannot drift) -------------
_calibration_gbps = instance_facts(CALIBRATION_INSTANCE).network_gbps
NETWORK_EFFICIENCY = (CALIBRATION_MODEL_GB / MEASURED_DOWNLOAD_ALONE_S) / (
    _calibration_gbps / GBIT_PER_GB
)  # 0.208 / 1.25 = 0.166
_calibration_rate_gb_s = NETWORK_EFFICIENCY * _calibration_gbps / GBIT_PER_GB
EXTRACT_GB_S = CALIBRATION_IMAGE_GB / (
    MEASURED_PULL_S - (CALIBRATION_IMAGE_GB + CALIBRATION_MODEL_GB) / _calibration_rate_gb_s
)  # 17.7 / (333 - 162.2) = 0.104
PROVISIONING_S = (
    MEASURED_CACHED_TOTAL_S
    - MEASURED_DOWNLOAD_ALONE_S
    - CONTAINER_START_S
    - CALIBRATION_MODEL_GB / WEIGHTS_LOAD_GB_S
)  # 258 - 77 - 60 - 16 = 105

PATHS = ("uncached", "cached", "warm_instance")


@dataclass(frozen=True)
class Phases:
    """The phase times of one path to a serving copy, in seconds.

    ``image_pull_s`` and ``model_download_s`` overlap; ``total_s`` counts the longer of the two.
    """

    path: str
    provisioning_s: float
    image_pull_s: float
    model_download_s: float
    container_start_s: float
    weights_load_s: float
    total_s: float

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


def transfer_rate_gb_s(network_gbps: float) -> float:
    """What one transfer achieves alone on an instance with ``network_gbps`` published bandwidth.

    ml.g6.2xlarge: 0.166 x 10 Gbps / 8 = 0.208 GB/s; ml.p5.48xlarge: 0.166 x 100 / 8 = 2.08 GB/s.
    """
    return NETWORK_EFFICIENCY * min(network_gbps, S3_CEILING_GBPS) / GBIT_PER_GB


def shared_transfers_s(first_gb: float, second_gb: float, rate_gb_s: float) -> tuple[float, float]:
    """When each of two transfers that start together ends, sharing ``rate_gb_s`` equally.

    The smaller one ends at 2 x small / rate; the larger then has the whole rate and ends at
    (small + large) / rate. 16 GB and 17.7 GB at 0.208 GB/s end at 154 s and 162 s.
    """
    if first_gb <= 0 or second_gb <= 0:
        return first_gb / rate_gb_s, second_gb / rate_gb_s
    small = min(first_gb, second_gb)
    both_end_s = (first_gb + second_gb) / rate_gb_s
    small_end_s = 2 * small / rate_gb_s
    if first_gb <= second_gb:
        return small_end_s, both_end_s
    return both_end_s, small_end_s


def _check(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number of GB >= 0; got {value!r}")


def cold_start(
    instance_type: str, *, image_gb: float, model_gb: float, network_gbps: float | None = None
) -> dict[str, Phases]:
    """Phase times of a new copy of a model (``model_gb`` of artifacts, ``image_gb`` compressed
    image) on ``instance_type``, keyed by path: ``uncached``, ``cached``, ``warm_instance``.

    ``network_gbps`` overrides the table's bandwidth (what-if questions, property tests).
    Unknown instance types raise ``KeyError`` naming the known ones; negative sizes ``ValueError``.
    """
    facts = instance_facts(instance_type)
    _check("image_gb", image_gb)
    _check("model_gb", model_gb)
    gbps = facts.network_gbps if network_gbps is None else network_gbps
    if not (math.isfinite(gbps) and gbps > 0):
        raise ValueError(f"network_gbps must be a finite number > 0; got {gbps!r}")
    rate = transfer_rate_gb_s(gbps)
    load_s = model_gb / WEIGHTS_LOAD_GB_S

    pull_transfer_s, download_shared_s = shared_transfers_s(image_gb, model_gb, rate)
    pull_s = pull_transfer_s + image_gb / EXTRACT_GB_S
    download_alone_s = model_gb / rate

    def phases(path: str, provisioning: float, pull: float, download: float) -> Phases:
        total = provisioning + max(pull, download) + CONTAINER_START_S + load_s
        return Phases(path, provisioning, pull, download, CONTAINER_START_S, load_s, total)

    return {
        "uncached": phases("uncached", PROVISIONING_S, pull_s, download_shared_s),
        "cached": phases("cached", PROVISIONING_S, 0.0, download_alone_s),
        "warm_instance": phases("warm_instance", 0.0, 0.0, 0.0),
    }
