"""The value types of the fleet file's schema.

Each check raises its problem in the project's words (``problem``) and adds its limit to the
JSON Schema, so the message a user reads and the schema an editor checks say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from .limits import INT32_MAX, compiled, json_schema_pattern
from .reader import WrittenFloat, WrittenInt, as_written

PROBLEM = "fleet"  # the error type of every check here


def problem(message: str, *below: str | int) -> PydanticCustomError:
    """A validation error in the project's words; ``below`` names the field inside the value
    being validated that is wrong (``problem("too many", "datapoints")`` on an alarm)."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "below": below})


def shown(value: Any) -> str:
    """A value as a message quotes it: strings in quotes and cut short, numbers as written."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else f"{value[:60]!r}... ({len(value)} characters)"
    if isinstance(value, WrittenInt | WrittenFloat):
        return value.text if len(value.text) <= 40 else f"{value.text[:30]}..."
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)}"
    if isinstance(value, int) and value.bit_length() > 128:  # repr fails past 4300 digits
        return f"an integer of {value.bit_length()} bits"
    return repr(value)[:80]


def described(value: Any) -> str:
    """A value with its kind, for "got ...": ``str 'eight'``, ``int 12``, ``nothing``."""
    if value is None:
        return "nothing"
    kinds = {WrittenInt: "int", WrittenFloat: "float", dict: "mapping", list: "list"}
    kind = kinds.get(type(value), type(value).__name__)
    return shown(value) if isinstance(value, dict | list) else f"{kind} {shown(value)}"


class Check:
    """An after-validator: ``test`` must hold, else ``message(value)`` is the problem."""

    def __init__(
        self, test: Callable[[Any], bool], message: Callable[[Any], str], json: dict[str, Any]
    ) -> None:
        self.test = test
        self.message = message
        self.json = json

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **self.json}

    def _validate(self, value: Any) -> Any:
        if not self.test(value):
            raise problem(self.message(value))
        return value


def pattern(regex: str, wrong: str, max_length: int) -> Check:
    """Text that ``regex`` matches entirely (a trailing newline included), at most
    ``max_length`` characters; ``wrong`` completes "<value> ..." when it does not match."""
    anchored = compiled(regex)

    def message(value: str) -> str:
        if len(value) > max_length:
            return f"{shown(value)} is {len(value)} characters long; allowed: at most {max_length}"
        return f"{shown(value)} {wrong}"

    return Check(
        lambda v: len(v) <= max_length and anchored.match(v) is not None,
        message,
        {"pattern": json_schema_pattern(regex), "maxLength": max_length},
    )


def between(minimum: float, maximum: float | None = None) -> Check:
    bound = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    limits = {"minimum": minimum} | ({} if maximum is None else {"maximum": maximum})
    return Check(
        lambda v: minimum <= v and (maximum is None or v <= maximum),
        lambda v: f"{shown(v)} is out of range; allowed: {bound}",
        limits,
    )


def one_of(values: Collection[Any], wrong: str) -> Check:
    """One of ``values``; ``wrong`` completes "<value> ..." when it is not."""
    return Check(
        lambda v: v in values,
        lambda v: f"{shown(v)} {wrong}; allowed: {', '.join(map(str, values))}",
        {"enum": list(values)},
    )


# A field that expects text takes a number as it was written (``version: 0.30`` is "0.30").
Text = Annotated[str, BeforeValidator(as_written)]
Count = Annotated[int, between(1, INT32_MAX)]  # SageMaker's counts are 32-bit integers
CountOrZero = Annotated[int, between(0, INT32_MAX)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class FileModel(BaseModel):
    """A mapping in the fleet file: only its own keys, values of exactly the declared types."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _mapping_of_known_keys(cls, value: Any) -> Any:
        allowed = ", ".join(cls.model_fields)
        if not isinstance(value, dict):
            raise problem(f"must be a mapping with keys {allowed}; got {described(value)}")
        unknown = [
            k[:40] if isinstance(k, str) else shown(k) for k in value if k not in cls.model_fields
        ]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise problem(
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown[:5])}{more}; "
                f"allowed: {allowed}"
            )
        return value
