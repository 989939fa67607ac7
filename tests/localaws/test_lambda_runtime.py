"""Handlers run in process as Lambda runs them: their environment, a context, their log."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest

from localaws.lambda_runtime import Environment, LambdaRuntime


def test_a_function_sees_its_variables_and_context_and_its_prints_go_to_its_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TABLE_NAME", "before")
    log = io.StringIO()
    env = Environment()
    cleared: list[str] = []
    runtime = LambdaRuntime(
        "eu-west-1", env, log, on_environment=lambda: cleared.append(os.environ["TABLE_NAME"])
    )

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        print("hello from", context.function_name)
        return {
            "table": os.environ["TABLE_NAME"],
            "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb,
            "event": event,
        }

    runtime.add("ep-scaler", handler, {"TABLE_NAME": "state"})
    done = runtime.invoke("ep-scaler", {"k": 1})
    assert done.error is None
    assert done.result == {
        "table": "state",
        "arn": "arn:aws:lambda:eu-west-1:123456789012:function:ep-scaler",
        "memory": 256,
        "event": {"k": 1},
    }
    assert cleared == ["state"]  # the hook ran with the function's variables set
    assert log.getvalue() == "hello from ep-scaler\n"
    env.restore()
    assert os.environ["TABLE_NAME"] == "before"


def test_an_exception_is_a_failed_invocation_not_a_crash() -> None:
    runtime = LambdaRuntime("us-east-1", Environment(), io.StringIO())

    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    runtime.add("f", handler, {})
    done = runtime.invoke("f", {})
    assert isinstance(done.error, RuntimeError)
    assert done.result is None
