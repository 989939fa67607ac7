"""AWS regions, from the partition and endpoint data bundled with botocore (offline).

``partitions.json`` lists every region of every partition; ``endpoints.json`` lists where the
SageMaker API (``api.sagemaker``) has an endpoint. Both are read once, without importing botocore.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any


def _botocore_data(name: str) -> Any:
    spec = find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed: it carries the list of AWS regions")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    return json.loads(path.read_bytes())


@cache
def partitions() -> dict[str, str]:
    """Every region, by name, with its partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    regions: dict[str, str] = {}
    for partition in _botocore_data("partitions.json")["partitions"]:
        for region in partition["regions"]:
            if not region.endswith("-global"):  # aws-global and the like are not regions
                regions[region] = partition["id"]
    return regions


@cache
def sagemaker_regions() -> frozenset[str]:
    """The regions where the SageMaker API has an endpoint."""
    found: set[str] = set()
    for partition in _botocore_data("endpoints.json")["partitions"]:
        endpoints = partition["services"].get("api.sagemaker", {}).get("endpoints", {})
        found.update(r for r in endpoints if r in partition["regions"])
    return frozenset(found)


def partition_of(region: str) -> str | None:
    return partitions().get(region)


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot hold the fleet, or None when it can."""
    if region not in partitions():
        near = _similar(region, partitions())
        hint = f" (did you mean {near}?)" if near else ""
        return (
            f"{region!r} is not an AWS region{hint}; allowed: a region botocore knows, such as "
            "us-east-1, eu-west-1 or ap-northeast-1"
        )
    if region not in sagemaker_regions():
        return (
            f"{region!r} has no SageMaker endpoint in botocore's endpoint data; allowed: one "
            f"of the {len(sagemaker_regions())} regions that have one, such as us-east-1"
        )
    return None


def _similar(region: str, known: dict[str, str]) -> str | None:
    # One edit away (us-east-7, us-eest-1): the common slip.
    if len(region) > 40 or not re.fullmatch(r"[a-z0-9-]+", region):
        return None
    for candidate in sorted(known):
        if (
            len(candidate) == len(region)
            and sum(a != b for a, b in zip(candidate, region, strict=True)) == 1
        ):
            return candidate
    return None
