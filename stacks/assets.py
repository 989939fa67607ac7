"""The Lambda code and layer the control-plane functions run, built at synth time.

No Docker and no network: each asset is copied together from files that are already here.

* The function code of one endpoint: ``lambdas/`` plus ``components.json``, the scaling specs of
  that endpoint's inference components. Lambda's 4 KB of environment held about four models'
  specs; a file in the code package holds as many as an endpoint can have, and is read once
  per execution environment (``lambdas/control_plane/settings.py``).
* The Powertools layer: the release of ``aws-lambda-powertools`` that ``requirements.txt`` pins,
  copied from the installed distribution, so the functions run the very release the tests ran
  with, in every partition (the public layer is published per partition by different accounts,
  with version numbers that do not name the release they carry).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from lambdas.control_plane import contract

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = ROOT / "lambdas"
REQUIREMENTS = ROOT / "requirements.txt"
POWERTOOLS = "aws-lambda-powertools"
# What Powertools' Logger and Metrics import beyond the standard library and the runtime's boto3.
POWERTOOLS_DEPENDENCIES = ("typing_extensions", "jmespath")
_SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


class AssetError(RuntimeError):
    """An asset cannot be built as pinned: the synth stops with what to do."""


@jsii.implements(ILocalBundling)
class _CopyInto:
    """aws-cdk-lib's local bundling: ``build`` fills the asset's output folder, no container."""

    def __init__(self, build: Callable[[Path], None]) -> None:
        self._build = build

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        self._build(Path(output_dir))
        return True


def _asset(files: dict[str, Path], extra: dict[str, bytes]) -> lambda_.Code:
    """An asset of ``files`` (archive path -> source) and ``extra`` (archive path -> bytes).

    The asset hash is a digest of every path and byte, so a changed file means a new asset and
    an unchanged one is staged and uploaded once, however many stacks use it.
    """
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    for name in sorted(extra):
        digest.update(name.encode() + b"\0" + extra[name] + b"\0")

    def build(out: Path) -> None:
        for name, source in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out / name)
        for name, data in extra.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)

    return lambda_.Code.from_asset(
        str(LAMBDA_ROOT),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest.hexdigest(),
        bundling=BundlingOptions(
            # Required by the type; never pulled, since the local build always succeeds.
            image=DockerImage.from_registry("local-build-only"),
            local=cast(ILocalBundling, _CopyInto(build)),
        ),
    )


def _tree(root: Path) -> dict[str, Path]:
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not _SKIPPED_PARTS.intersection(path.parts)
        and path.suffix not in (".pyc", ".pyo")
    }


def function_code(components_json: str) -> lambda_.Code:
    """``lambdas/`` with ``components_json`` as ``contract.COMPONENTS_FILE_NAME`` beside it."""
    return _asset(
        _tree(LAMBDA_ROOT), {contract.COMPONENTS_FILE_NAME: components_json.encode("utf-8")}
    )


@dataclass(frozen=True)
class PowertoolsRelease:
    version: str
    files: dict[str, Path]  # archive path under python/ -> installed file


def pinned_version(requirements: Path = REQUIREMENTS) -> str:
    """The ``aws-lambda-powertools==X`` pin of ``requirements``."""
    pattern = re.compile(r"^\s*aws[-_]lambda[-_]powertools\s*==\s*([^\s#;]+)", re.IGNORECASE)
    for line in requirements.read_text().splitlines():
        match = pattern.match(line)
        if match:
            return match[1]
    raise AssetError(f"{requirements.name}: no {POWERTOOLS}==VERSION pin; allowed: one exact pin")


def _installed_files(name: str) -> tuple[str, dict[str, Path]]:
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        raise AssetError(
            f"{name} is not installed; run `make setup` (it installs requirements.txt)"
        ) from None
    files: dict[str, Path] = {}
    for entry in dist.files or []:
        # Files installed outside site-packages (console scripts) and byte code are not needed.
        if entry.parts[0] == ".." or _SKIPPED_PARTS.intersection(entry.parts):
            continue
        if entry.suffix in (".so", ".pyd"):
            raise AssetError(
                f"{name} {dist.version} ships compiled code ({entry}); allowed: pure Python"
            )
        if entry.suffix in (".pyc", ".pyo"):
            continue
        files[f"python/{entry.as_posix()}"] = Path(str(entry.locate()))
    return dist.version, files


def powertools_release(
    requirements: Path = REQUIREMENTS, dependencies: Iterable[str] = POWERTOOLS_DEPENDENCIES
) -> PowertoolsRelease:
    """The installed Powertools files, if the installed release is the pinned one."""
    pinned = pinned_version(requirements)
    version, files = _installed_files(POWERTOOLS)
    if version != pinned:
        raise AssetError(
            f"{POWERTOOLS} {version} is installed but {requirements.name} pins {pinned}; "
            "allowed: the pinned release (run `make setup`)"
        )
    for name in dependencies:
        files.update(_installed_files(name)[1])
    return PowertoolsRelease(version, files)


def powertools_layer_code(release: PowertoolsRelease) -> lambda_.Code:
    """A layer archive of ``release``: Lambda puts ``python/`` on the functions' import path."""
    return _asset(release.files, {})
