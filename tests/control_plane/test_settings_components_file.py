"""Where the components document comes from: the file the stacks bundle with the code, or an
inline variable for local runs; a wrong path is a clear deployment error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdas.control_plane import contract
from lambdas.control_plane.settings import CODE_ROOT, SettingsError, parse_settings
from tests.helpers import IMAGE, make_spec


def document(endpoint: str, components: list[str]) -> str:
    return json.dumps(
        {
            c: {"spec": make_spec(endpoint, c).to_dict(), "image": IMAGE, "model": c}
            for c in components
        }
    )


def env(**extra: str) -> dict[str, str]:
    return {
        contract.ENV_TABLE_NAME: "state",
        contract.ENV_ENDPOINT_NAME: "ep",
        contract.ENV_REEVALUATION_QUEUE_URL: "https://sqs.example/q",
        **extra,
    }


def test_the_file_named_by_the_environment_is_the_document(tmp_path: Path) -> None:
    path = tmp_path / "components.json"
    path.write_text(document("ep", ["ep-a", "ep-b"]))
    # The inline variable is ignored when a file is named: the deployed file wins.
    settings = parse_settings(env(COMPONENTS_FILE=str(path), COMPONENTS=document("ep", ["ep-a"])))
    assert sorted(settings.components) == ["ep-a", "ep-b"]


def test_a_relative_file_name_is_under_the_code_root() -> None:
    # On Lambda the code root is /var/task, where the stacks put components.json.
    with pytest.raises(SettingsError) as caught:
        parse_settings(env(COMPONENTS_FILE="components.json"))
    assert str(caught.value).startswith(
        f"{contract.ENV_COMPONENTS_FILE} ({CODE_ROOT / 'components.json'}) cannot be read"
    )


def test_a_broken_file_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "components.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match=r"^COMPONENTS_FILE \(.*components.json\) is not JSON"):
        parse_settings(env(COMPONENTS_FILE=str(path)))


def test_inline_components_still_serve_local_runs() -> None:
    settings = parse_settings(env(COMPONENTS=document("ep", ["ep-a"])))
    assert list(settings.components) == ["ep-a"]
