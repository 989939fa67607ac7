"""Reading untrusted event input: the errors every parser raises, the bounds, bounded JSON and
checked fields.

Input is bounded before it is decoded: JSON text (an alarm's ``reasonData``, a queue message's
body) is refused when it is too long, nests too deep, or holds an integer of more than
``JSON_MAX_INT_DIGITS`` digits, a non-finite number or a duplicate key, so no input reaches
Python's own limits (the int-digits ``ValueError``, ``RecursionError``). ``metric_period`` and
``metric_stat`` are the one rule for a period and a statistic on the alarm path and the queue
path alike.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any


class EventError(ValueError):
    """An event the handler refuses: malformed, of an unknown kind, or not this endpoint's."""


class UnknownComponent(EventError):
    """The event names an inference component (or alarm) this endpoint does not have."""


class ForeignEndpoint(EventError):
    """The event is about another endpoint."""


# --- bounds shared by every event kind ---------------------------------------------------------
NAME_MAX_CHARS = 256  # alarm names (CloudWatch: 255), resource names, event ids, timestamps
JSON_MAX_DEPTH = 8  # a real reasonData nests 3 deep, a queue message 1
JSON_MAX_INT_DIGITS = 20  # past any epoch, count or period
PERIOD_MAX_S = 86400  # CloudWatch periods are 1, 5, 10, 30 s or multiples of 60 s; a day at most
STANDARD_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(?:100|\d{1,2}(?:\.\d{1,2})?)")


def show(value: Any) -> str:
    """``value`` for an error message, short whatever it is (never the whole of a huge input;
    an integer past Python's 4,300-digit str limit must not raise while being described)."""
    if value is None or isinstance(value, bool | float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**18 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, str):
        return repr(value[:40]) + (f"... ({len(value)} chars)" if len(value) > 40 else "")
    return f"a {type(value).__name__}"


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > JSON_MAX_INT_DIGITS:
        raise EventError(
            f"a number of {len(digits)} digits; allowed: at most {JSON_MAX_INT_DIGITS} digits"
        )
    return int(digits)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise EventError(f"number {show(text)} is out of range; allowed: finite numbers")
    return value


def _json_constant(name: str) -> Any:
    raise EventError(f"{name} is not allowed; allowed: finite numbers")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise EventError(f"duplicate key {show(key)}; allowed: each key once")
        out[key] = value
    return out


def _nesting(text: str) -> int:
    """The deepest ``[``/``{`` nesting of JSON ``text``, counted without decoding it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def bounded_json(text: Any, what: str, max_chars: int) -> Any:
    """``text`` decoded as JSON within the bounds above; ``EventError`` naming ``what``."""
    if not isinstance(text, str):
        raise EventError(f"{what} must be a JSON string, got {show(text)}")
    if len(text) > max_chars:
        raise EventError(f"{what} is {len(text)} characters; allowed: at most {max_chars}")
    depth = _nesting(text)
    if depth > JSON_MAX_DEPTH:
        raise EventError(f"{what} nests {depth} levels deep; allowed: at most {JSON_MAX_DEPTH}")
    try:
        return json.loads(
            text,
            parse_int=_json_int,
            parse_float=_json_float,
            parse_constant=_json_constant,
            object_pairs_hook=_json_object,
        )
    except EventError as exc:
        raise EventError(f"{what}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise EventError(f"{what} is not valid JSON: {str(exc)[:120]}") from None


def metric_period(value: Any, where: str) -> int:
    """The one rule for a metric period, on the alarm path and the queue path alike."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PERIOD_MAX_S:
        raise EventError(
            f"{where} must be a whole number of seconds from 1 to {PERIOD_MAX_S} "
            f"(not a boolean), got {show(value)}"
        )
    return value


def metric_stat(value: Any, where: str) -> str:
    """The one rule for a statistic: CloudWatch's five, or a percentile p0 to p100."""
    if isinstance(value, str) and (value in STANDARD_STATS or _PERCENTILE.fullmatch(value)):
        return value
    raise EventError(
        f"{where} must be one of {', '.join(STANDARD_STATS)} or a percentile p0 to p100 "
        f"(e.g. p99, p99.9), got {show(value)}"
    )


# --- checked fields ---------------------------------------------------------------------------
def value_at(obj: Any, path: str, kind: type | tuple[type, ...]) -> Any:
    """``obj[a][b]...`` for ``path`` "a.b", checked against ``kind``."""
    here = obj
    for part in path.split("."):
        if not isinstance(here, Mapping) or part not in here:
            raise EventError(f"event field {path!r} is missing")
        here = here[part]
    if not isinstance(here, kind) or (isinstance(here, bool) and bool not in _kinds(kind)):
        names = "/".join(k.__name__ for k in _kinds(kind))
        raise EventError(f"event field {path!r} must be {names}, got {type(here).__name__}")
    return here


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def name_at(obj: Any, path: str) -> str:
    """The name at ``path``: a non-empty string of at most ``NAME_MAX_CHARS``."""
    value: str = value_at(obj, path, str)
    if not value or len(value) > NAME_MAX_CHARS:
        raise EventError(
            f"event field {path!r} must be a non-empty name of at most {NAME_MAX_CHARS} "
            f"chars, got {show(value)}"
        )
    return value


def count_at(obj: Any, path: str, most: int) -> int:
    """The whole number at ``path``, from 0 to ``most``."""
    value: int = value_at(obj, path, int)
    if not 0 <= value <= most:
        raise EventError(f"event field {path!r} must be from 0 to {most}, got {show(value)}")
    return value
