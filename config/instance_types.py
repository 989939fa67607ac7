"""Facts about the SageMaker GPU instance types the project plans with.

One table for the whole project: the configuration checks accelerators and memory against it,
and the cold-start model (``config.coldstart``) derives transfer and load times from it.

Source: the Amazon EC2 accelerated-computing instance pages (G4dn, G5, G6, G6e, P4d, P5) and
the SageMaker AI pricing page for the ``ml.`` variants. ``network_gbps`` is the figure AWS
publishes; where AWS writes "up to N Gbps" the instance has a burst allowance over a lower
baseline and ``network_burst`` is true.

Per-GPU serving facts (``GPUS``: memory bandwidth and dense tensor throughput, read by the copy
speed model ``config.serving``) come from the vendor data sheets named beside each entry.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: int
    gpus: int
    gpu_model: str
    gpu_memory_gib: int  # per GPU
    network_gbps: float
    network_burst: bool  # "up to network_gbps"

    @property
    def family(self) -> str:
        return self.name.split(".")[1]

    @property
    def memory_mb(self) -> int:
        return self.memory_gib * 1024

    @property
    def gpu(self) -> Gpu:
        """Memory bandwidth and tensor throughput of one of the instance's GPUs."""
        return GPUS[self.gpu_model]

    @property
    def gpu_memory_bandwidth_gb_s(self) -> float:
        return self.gpu.memory_bandwidth_gb_s

    @property
    def gpu_bf16_dense_tflops(self) -> float:
        return self.gpu.bf16_dense_tflops


@dataclass(frozen=True)
class Gpu:
    """One GPU's figures from its vendor data sheet.

    ``bf16_dense_tflops`` is tensor-core BF16 throughput without structured sparsity (data sheets
    print the sparse figure, twice this, with an asterisk).
    """

    name: str
    memory_bandwidth_gb_s: float
    bf16_dense_tflops: float
    source: str


GPUS: dict[str, Gpu] = {
    g.name: g
    for g in (
        # The T4 has no BF16 tensor path: its FP16 figure (65 TFLOPS mixed precision).
        Gpu("NVIDIA T4", 320.0, 65.0, "NVIDIA T4 Tensor Core GPU data sheet"),
        # AWS publishes no A10G data sheet; the A10G is a variant of the A10 with the same
        # 600 GB/s memory. Its tensor figure is the A10's (125 TFLOPS BF16 dense, 250 sparse):
        # the prefill rates published for the A10G (docs/scaling-model.md, "Copy speed under
        # load") imply more than the 70 TFLOPS some third parties list for it.
        Gpu("NVIDIA A10G", 600.0, 125.0, "NVIDIA A10 Tensor Core GPU data sheet"),
        Gpu("NVIDIA L4", 300.0, 121.0, "NVIDIA L4 Tensor Core GPU data sheet (242 sparse)"),
        Gpu("NVIDIA L40S", 864.0, 362.0, "NVIDIA L40S GPU data sheet (733 sparse)"),
        Gpu("NVIDIA A100", 1555.0, 312.0, "NVIDIA A100 Tensor Core GPU data sheet, 40 GB SXM"),
        Gpu("NVIDIA H100", 3350.0, 989.0, "NVIDIA H100 Tensor Core GPU data sheet, SXM"),
    )
}


def _family(
    family: str,
    gpu_model: str,
    gpu_memory_gib: int,
    sizes: list[tuple[str, int, int, int, float, bool]],
) -> dict[str, InstanceType]:
    out = {}
    for size, vcpus, memory_gib, gpus, gbps, burst in sizes:
        name = f"ml.{family}.{size}"
        out[name] = InstanceType(
            name, vcpus, memory_gib, gpus, gpu_model, gpu_memory_gib, gbps, burst
        )
    return out


# size, vCPUs, memory GiB, GPUs, network Gbps, "up to"
INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family(
        "g4dn",
        "NVIDIA T4",
        16,
        [
            ("xlarge", 4, 16, 1, 25, True),
            ("2xlarge", 8, 32, 1, 25, True),
            ("4xlarge", 16, 64, 1, 25, True),
            ("8xlarge", 32, 128, 1, 50, False),
            ("12xlarge", 48, 192, 4, 50, False),
            ("16xlarge", 64, 256, 1, 50, False),
        ],
    ),
    **_family(
        "g5",
        "NVIDIA A10G",
        24,
        [
            ("xlarge", 4, 16, 1, 10, True),
            ("2xlarge", 8, 32, 1, 10, True),
            ("4xlarge", 16, 64, 1, 25, True),
            ("8xlarge", 32, 128, 1, 25, False),
            ("12xlarge", 48, 192, 4, 40, False),
            ("16xlarge", 64, 256, 1, 25, False),
            ("24xlarge", 96, 384, 4, 50, False),
            ("48xlarge", 192, 768, 8, 100, False),
        ],
    ),
    **_family(
        "g6",
        "NVIDIA L4",
        24,
        [
            ("xlarge", 4, 16, 1, 10, True),
            ("2xlarge", 8, 32, 1, 10, True),
            ("4xlarge", 16, 64, 1, 25, True),
            ("8xlarge", 32, 128, 1, 25, False),
            ("12xlarge", 48, 192, 4, 40, False),
            ("16xlarge", 64, 256, 1, 25, False),
            ("24xlarge", 96, 384, 4, 50, False),
            ("48xlarge", 192, 768, 8, 100, False),
        ],
    ),
    **_family(
        "g6e",
        "NVIDIA L40S",
        48,
        [
            ("xlarge", 4, 32, 1, 20, True),
            ("2xlarge", 8, 64, 1, 20, True),
            ("4xlarge", 16, 128, 1, 20, False),
            ("8xlarge", 32, 256, 1, 25, False),
            ("12xlarge", 48, 384, 4, 100, False),
            ("16xlarge", 64, 512, 1, 35, False),
            ("24xlarge", 96, 768, 4, 200, False),
            ("48xlarge", 192, 1536, 8, 400, False),
        ],
    ),
    **_family("p4d", "NVIDIA A100", 40, [("24xlarge", 96, 1152, 8, 400, False)]),
    **_family("p5", "NVIDIA H100", 80, [("48xlarge", 192, 2048, 8, 3200, False)]),
}


def instance_type(name: str) -> InstanceType:
    """The facts for ``name``; a ``KeyError`` naming the known types if it is not in the table."""
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        raise KeyError(
            f"unknown instance type {name!r}; known: {', '.join(sorted(INSTANCE_TYPES))}"
        ) from None
