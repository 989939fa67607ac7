"""The fleet file's JSON Schema, generated from ``config.schema`` for editors.

``python -m config.json_schema`` rewrites ``docs/fleet.schema.json``; a test fails when the
committed file is stale. ``config/fleet.yaml`` names it on its first line for the YAML language
server (VS Code's YAML extension, and editors built on it), which then checks the file as it is
typed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from .schema import Fleet

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "fleet.schema.json"


class _WithoutFieldTitles(GenerateJsonSchema):
    """pydantic titles each field after its name ("History Ttl Days"): noise in an editor."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def json_schema() -> dict[str, Any]:
    schema = Fleet.model_json_schema(schema_generator=_WithoutFieldTitles)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Fleet file (config/fleet.yaml); see docs/configuration.md",
        **schema,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else SCHEMA_FILE
    target.write_text(json_schema_text(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
