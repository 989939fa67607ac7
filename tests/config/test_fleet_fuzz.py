"""Generated hostile fleet files: the parser returns a Fleet or raises ConfigError, nothing
else, within hypothesis' deadline per example."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.fleet import DEFAULT_FLEET, ConfigError, Fleet, parse_fleet
from config.reader import read_fleet_bytes

SOURCE = Path("fuzzed.yaml")
BASE_TEXT = DEFAULT_FLEET.read_text(encoding="utf-8")
BASE: dict[str, Any] = read_fleet_bytes(BASE_TEXT.encode(), SOURCE)  # numbers keep their text
PLAIN: dict[str, Any] = yaml.safe_load(BASE_TEXT)  # what yaml.safe_dump can write back
FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),  # a loaded 2-core machine; a fleet parses in milliseconds
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "\n", "us-east-1\n", "012", "0.30", "yes", "1:30", "x" * 2000]),
    st.sampled_from([2**31, 2**63, -(2**63)]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), scalars), inner, max_size=4),
    ),
    max_leaves=12,
)
# Past Python's 4300-digit str() limit: only in documents (yaml.safe_dump cannot write them).
huge_integers = st.sampled_from([4301, 5000]).map(lambda digits: 10**digits)


def outcome(parse: Any) -> Fleet | ConfigError:
    try:
        fleet: Fleet = parse()
    except ConfigError as exc:
        assert str(exc).startswith(f"{SOURCE}: "), str(exc)
        return exc
    return fleet


def mutate(document: Any, data: st.DataObject, new: st.SearchStrategy[Any] = values) -> Any:
    """Walk down to a random value of ``document`` and replace, drop or add a key there."""
    node = document
    for _ in range(data.draw(st.integers(0, 8))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        children = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
        if not children:
            break
        _, node = data.draw(st.sampled_from(children))
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    action = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "add" and isinstance(node, dict):
        node[data.draw(st.text(max_size=12))] = data.draw(new)
    elif action == "drop" and keys:
        del node[data.draw(st.sampled_from(keys))]
    elif keys:
        node[data.draw(st.sampled_from(keys))] = data.draw(new)
    return document


@FUZZ
@given(st.data())
def test_mutated_documents_give_a_fleet_or_a_config_error(data: st.DataObject) -> None:
    document = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        document = mutate(document, data, st.one_of(values, huge_integers))
    outcome(lambda: parse_fleet(document, SOURCE))


@FUZZ
@given(st.data())
def test_mutated_yaml_text_gives_a_fleet_or_a_config_error(data: st.DataObject) -> None:
    document = mutate(copy.deepcopy(PLAIN), data)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode()
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        text = text[:at] + data.draw(st.binary(max_size=12)) + text[at + cut :]
    outcome(lambda: parse_fleet(read_fleet_bytes(text, SOURCE), SOURCE))


hostile_fragments = st.sampled_from(
    [
        "&a [1, 2]",
        "*a",
        "!!python/object/apply:os.system [ls]",
        "[" * 100,
        "{" * 100,
        "9" * 5000,
        ".nan",
        "-.inf",
        "0x" + "f" * 40,
        "0o777",
        "'\\u0000'",
        "\t",
        "? [a]\n: b",
        "---",
        "\ufeff",
    ]
)


@FUZZ
@given(st.data())
def test_hostile_fragments_in_the_default_file(data: st.DataObject) -> None:
    lines = BASE_TEXT.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        if ":" in line and not line.lstrip().startswith("#"):
            key = line.split(":", 1)[0]
            lines[at] = f"{key}: {data.draw(hostile_fragments)}"
        else:
            lines.insert(at, data.draw(hostile_fragments))
    text = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    outcome(lambda: parse_fleet(read_fleet_bytes(text, SOURCE), SOURCE))
