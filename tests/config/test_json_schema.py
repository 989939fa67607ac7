"""The published JSON Schema (docs/fleet.schema.json) is the schema the parser enforces."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from config.fleet import DEFAULT_FLEET
from config.json_schema import SCHEMA_FILE, json_schema, json_schema_text


def test_the_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "docs/fleet.schema.json is stale: run `.venv/bin/python -m config.json_schema`"
    )


def test_the_default_fleet_names_the_schema_for_editors() -> None:
    first_line = DEFAULT_FLEET.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../docs/fleet.schema.json"
    assert (DEFAULT_FLEET.parent / "../docs/fleet.schema.json").resolve() == SCHEMA_FILE


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def default_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_FLEET.read_text(encoding="utf-8"))
    return document


def test_the_default_fleet_satisfies_the_schema(validator: jsonschema.Draft202012Validator) -> None:
    assert [e.message for e in validator.iter_errors(default_document())] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("endpoints", 0, "models", 0, "acclerators"), 1),  # unknown key
        (("endpoints", 0, "name"), "qwen_3.8b"),
        (("endpoints", 0, "instance_type"), "ml.g7.2xlarge"),
        (("endpoints", 0, "max_instances"), 2**31),
        (("endpoints", 0, "metrics", "enhanced"), "yes"),
        (("endpoints", 0, "models", 0, "environment", "BAD-NAME"), "x"),
        (("endpoints", 0, "models", 0, "image"), "docker.io/vllm/vllm:latest"),
        (("endpoints", 0, "models", 0, "scaling", "scale_out", "alarm", "period_s"), 15),
        (("control_plane", "log_retention_days"), 10),
        (("control_plane", "notifications", "email"), "ops@localhost"),
    ],
)
def test_an_editor_flags_what_the_parser_refuses(
    validator: jsonschema.Draft202012Validator, path: tuple[str | int, ...], value: Any
) -> None:
    document = copy.deepcopy(default_document())
    node: Any = document
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[path[-1]] = value
    assert list(validator.iter_errors(document)), f"the schema accepts {path} = {value!r}"
