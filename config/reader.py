"""Reading a fleet file into plain values, refusing what a deploy tool must not trust.

A general YAML loader does more than a fleet file needs, and some of it is hostile territory:
a duplicate key silently replaces the first (a second ``region`` moves the whole fleet), YAML
1.1 rewrites plain scalars (``012`` is 10, ``1:30`` is 90, ``0.30`` is 0.3, ``no`` is False),
aliases expand a 1 KB file into gigabytes, deep nesting exhausts the stack and a 5,000-digit
integer exceeds Python's conversion limit. Here the events of one YAML document are turned into
dicts, lists and scalars by a loop that:

- reads at most ``MAX_BYTES`` of UTF-8 text;
- refuses aliases, anchors, explicit tags, non-scalar keys, more than one document and nesting
  deeper than ``MAX_DEPTH``;
- names both lines of a duplicate key;
- resolves plain scalars by the YAML 1.2 core schema (``true``/``false``, ``null``/``~``,
  decimal, ``0o`` and ``0x`` integers, floats, ``.inf``, ``.nan``), and keeps what was written
  beside each number (``WrittenInt``, ``WrittenFloat``) so a field that expects text takes the
  text as written: ``version: 0.30`` is ``"0.30"``, ``name: 012`` is ``"012"``.

Every refusal is a ``ConfigError``: ``file: field: problem; allowed: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from .domain import ConfigError

MAX_BYTES = 256 * 1024  # the default fleet is 3 KB; twenty endpoints of four models fit in 200 KB
MAX_DEPTH = 16  # the fleet file's deepest value is 7 levels down
MAX_NUMBER_CHARS = 32  # more digits than any limit in the file needs

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


class WrittenInt(int):
    """An integer that remembers how it was written (``012``, ``0x1F``)."""

    text: str


class WrittenFloat(float):
    """A float that remembers how it was written (``0.30``, ``1e3``)."""

    text: str


def as_written(value: Any) -> Any:
    """The text a number was written as, for a field that expects text; anything else as is."""
    return value.text if isinstance(value, WrittenInt | WrittenFloat) else value


def where(path: Sequence[str | int]) -> str:
    """``("endpoints", 0, "name")`` as ``endpoints[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def read_fleet_bytes(data: bytes, source: Path) -> Any:
    """The document in ``data`` as dicts, lists and scalars; ``ConfigError`` when refused."""
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{source}: (file): more than {MAX_BYTES} bytes; allowed: at most {MAX_BYTES} "
            "bytes (a fleet file is a few kilobytes)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}: (file): byte 0x{data[exc.start]:02x} on line {line} is not UTF-8; "
            "allowed: a UTF-8 text file"
        ) from None
    builder = _Builder(source)
    try:
        for event in yaml.parse(text.removeprefix("\ufeff"), Loader=_Loader):
            builder.feed(event)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        line = text.removeprefix("\ufeff")[: exc.position].count("\n") + 1
        raise ConfigError(
            f"{source}: not valid YAML at line {line}: character {exc.character!r} is not "
            "allowed; allowed: printable text, tabs and line breaks"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{at}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    return builder.document


@dataclass
class _Frame:
    path: tuple[str | int, ...]
    value: dict[str, Any] | list[Any]
    key: str | None = None  # a mapping's key waiting for its value
    lines: dict[str, int] = field(default_factory=dict)  # a mapping's keys, by line


class _Builder:
    def __init__(self, source: Path) -> None:
        self.source = source
        self.stack: list[_Frame] = []
        self.document: Any = None
        self.documents = 0

    def fail(self, path: Sequence[str | int], problem: str) -> NoReturn:
        raise ConfigError(f"{self.source}: {where(path)}: {problem}")

    def here(self) -> tuple[str | int, ...]:
        """The path of the value the next event gives."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return (*top.path, top.key) if top.key is not None else top.path

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fail((), f"a second YAML document starts on line {line}; allowed: one")
            return
        if isinstance(event, yaml.AliasEvent):
            self.fail(
                self.here(),
                f"alias *{event.anchor} on line {line}; allowed: values written out in full "
                "(anchors and aliases are not supported)",
            )
        if not isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
            return  # stream start and end, document end
        if isinstance(event, yaml.CollectionEndEvent):
            frame = self.stack.pop()
            self.attach(frame.value)
            return
        self.refuse_anchor_and_tag(event, line)
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.value, dict) and top.key is None:
            self.take_key(top, event, line)
        elif isinstance(event, yaml.ScalarEvent):
            self.attach(_scalar(event, self, self.here()))
        else:
            path = self.here()
            if len(path) >= MAX_DEPTH:
                self.fail(path, f"nested {len(path) + 1} levels deep; allowed: {MAX_DEPTH}")
            container: dict[str, Any] | list[Any] = (
                {} if isinstance(event, yaml.MappingStartEvent) else []
            )
            self.stack.append(_Frame(path, container))

    def refuse_anchor_and_tag(self, event: yaml.NodeEvent, line: int) -> None:
        if event.anchor is not None:
            self.fail(
                self.here(),
                f"anchor &{event.anchor} on line {line}; allowed: values written out in full "
                "(anchors and aliases are not supported)",
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            self.fail(
                self.here(),
                f"tag {tag} on line {line}; allowed: untagged values (quote a value to make "
                "it text)",
            )

    def take_key(self, frame: _Frame, event: yaml.NodeEvent, line: int) -> None:
        if not isinstance(event, yaml.ScalarEvent):
            self.fail(frame.path, f"a key on line {line} is not plain text; allowed: names")
        key = event.value
        first = frame.lines.get(key)
        if first is not None:
            self.fail(
                (*frame.path, key),
                f"duplicate key on lines {first} and {line}; allowed: each key once "
                "(YAML would keep only the last, silently)",
            )
        frame.lines[key] = line
        frame.key = key

    def attach(self, value: Any) -> None:
        if not self.stack:
            self.document = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        else:
            assert top.key is not None
            top.value[top.key] = value
            top.key = None


def _scalar(event: yaml.ScalarEvent, builder: _Builder, path: tuple[str | int, ...]) -> Any:
    text: str = event.value
    if event.style not in (None, ""):  # quoted or block: always text
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    is_int = _INT.fullmatch(text) is not None
    if not is_int and _FLOAT.fullmatch(text) is None:
        return text
    if len(text) > MAX_NUMBER_CHARS:
        builder.fail(
            path,
            f"a number {len(text)} characters long; allowed: at most {MAX_NUMBER_CHARS} "
            "characters (quote it if it is text)",
        )
    number: WrittenInt | WrittenFloat
    if is_int:
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        number = WrittenInt(int(text[2:] if base != 10 else text, base))
    else:
        special = text.lower().endswith(("inf", "nan"))  # .inf, -.Inf, .NaN: float() reads inf, nan
        number = WrittenFloat(float(text.replace(".", "") if special else text))
    number.text = text
    return number
