"""Lambda functions run in this process, as the Lambda runtime would run them.

``LambdaRuntime.invoke`` sets the function's environment variables, hands the handler a
``LambdaContext`` (the attributes Powertools' ``inject_lambda_context`` and the handlers read),
sends what it prints to the function's log stream and reports an exception as a failed
invocation instead of raising it. ``Environment`` sets process variables and puts the old values
back when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from .events import ACCOUNT_ID

Handler = Callable[[dict[str, Any], Any], Any]


class Environment:
    """Sets process environment variables and puts the old values back on ``restore``."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, **values: str) -> None:
        for key, value in values.items():
            if key not in self._saved:
                self._saved[key] = os.environ.get(key)
            os.environ[key] = value

    def restore(self) -> None:
        for key, old in self._saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        self._saved.clear()


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers may read."""

    function_name: str
    region: str
    account: str = ACCOUNT_ID
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_stream_name: str = "local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Invocation:
    """What one invocation returned, or the exception that failed it."""

    result: Any = None
    error: Exception | None = None


@dataclass
class _Function:
    handler: Handler
    variables: dict[str, str]


class LambdaRuntime:
    """Functions by name, each with its handler and environment variables.

    ``on_environment`` runs after a function's variables are set and before its handler (a
    handler module that caches its settings clears them there).
    """

    def __init__(
        self,
        region: str,
        environment: Environment,
        log: IO[str],
        *,
        account: str = ACCOUNT_ID,
        on_environment: Callable[[], None] = lambda: None,
    ) -> None:
        self.region = region
        self.account = account
        self._environment = environment
        self._log = log
        self._on_environment = on_environment
        self._functions: dict[str, _Function] = {}

    def add(self, name: str, handler: Handler, variables: Mapping[str, str]) -> None:
        self._functions[name] = _Function(handler, dict(variables))

    def invoke(self, name: str, event: dict[str, Any]) -> Invocation:
        """Run function ``name`` on ``event`` (an unknown name raises ``KeyError``)."""
        function = self._functions[name]
        self._environment.set(**function.variables)
        self._on_environment()
        context = LambdaContext(name, self.region, self.account)
        with contextlib.redirect_stdout(self._log):
            try:
                return Invocation(result=function.handler(event, context))
            except Exception as exc:
                return Invocation(error=exc)
