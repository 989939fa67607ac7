"""Container images: the ECR URI pattern (written once, for the parser and the stacks) and
the offline resolution of framework images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .domain import ConfigError, FrameworkImage
from .limits import compiled

# ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY:TAG or @sha256:DIGEST. A tag is what
# Docker allows (a letter, digit or underscore, then up to 127 of those, dots and hyphens).
ECR_IMAGE_PATTERN = (
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+)(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})"
)
ECR_IMAGE = compiled(ECR_IMAGE_PATTERN)
ECR_IMAGE_FORMAT = "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or ...@sha256:DIGEST"


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str


def ecr_image(uri: str) -> EcrImage | None:
    """The parts of an ECR image URI, or None when ``uri`` is not one."""
    match = ECR_IMAGE.match(uri)
    if match is None:
        return None
    return EcrImage(match["account"], match["region"], match["repository"])


def resolve_image(
    image: str | FrameworkImage, region: str, retrieve: Callable[..., str] | None = None
) -> str:
    """The ECR URI of ``image`` in ``region``.

    Framework images are looked up offline in the SageMaker Python SDK's bundled tables
    (``sagemaker.core.image_uris.retrieve``), imported only when needed: it costs about 2 s.
    """
    if isinstance(image, str):
        return image
    lookup = retrieve
    if lookup is None:
        from sagemaker.core.image_uris import retrieve as sdk_retrieve

        lookup = sdk_retrieve
    try:
        uri: str = lookup(framework=image.framework, region=region, version=image.version)
    except ValueError as exc:
        raise ConfigError(
            f"image {{framework: {image.framework}, version: {image.version}}} "
            f"cannot be resolved for {region}: {exc}"
        ) from None
    return uri
