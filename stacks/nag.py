"""cdk-nag acknowledgements that name the exact finding, with the reason written next to it.

cdk-nag 3 reports each wildcard of an IAM policy as its own finding
(``AwsSolutions-IAM5[Resource::<ARN>]``) and matches acknowledgements by that exact id, so the
helpers here render an ARN the way cdk-nag prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def nag_arn(stack: Stack, arn: str) -> str:
    """``arn`` as cdk-nag prints it: ``<AWS::Region>``, ``<Logical.Arn>``, ``<Logical>``."""
    return _render(stack.resolve(arn))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(_render(p) for p in parts)
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return f"<{logical}.{attribute}>"
    raise ValueError(f"cannot render {value!r} as cdk-nag does")


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on ``construct`` (and everything under it)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard_resources(construct: IConstruct, arns: Iterable[str], reason: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` for each wildcard resource ARN in ``arns``."""
    stack = Stack.of(construct)
    for arn in arns:
        acknowledge(construct, f"AwsSolutions-IAM5[Resource::{nag_arn(stack, arn)}]", reason)
