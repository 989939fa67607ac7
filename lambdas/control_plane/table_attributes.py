"""DynamoDB's typed attribute values (``{"N": "3"}``, ``{"S": "x"}``, ...) to and from plain
Python values, for the state table's rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def to_attr(value: Any) -> dict[str, Any]:
    """``value`` as an attribute value; floats are kept to the millisecond."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(round(float(value), 3)) if isinstance(value, float) else str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store {type(value).__name__} in the state table")


def from_attr(attr: Mapping[str, Any]) -> Any:
    """The plain value of an attribute value (a whole ``N`` is an ``int``)."""
    if "N" in attr:
        number = float(attr["N"])
        return int(number) if number.is_integer() and "." not in attr["N"] else number
    if "S" in attr:
        return attr["S"]
    if "BOOL" in attr:
        return bool(attr["BOOL"])
    if "M" in attr:
        return {k: from_attr(v) for k, v in attr["M"].items()}
    return None


def item_from(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row as returned by DynamoDB, as plain values."""
    return {k: from_attr(v) for k, v in raw.items()}
