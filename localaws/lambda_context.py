"""A Lambda context object for handlers called in-process (the tests; the demo has its own).

Powertools' ``Logger.inject_lambda_context`` reads ``function_name``, ``memory_limit_in_mb``,
``invoked_function_arn`` and ``aws_request_id`` from it. Powertools' ``LambdaContext`` is the
type the handlers declare; this subclass fills the attributes its properties read.
"""

from __future__ import annotations

import uuid

from aws_lambda_powertools.utilities.typing import LambdaContext

ACCOUNT_ID = "123456789012"  # moto's default account


class LocalLambdaContext(LambdaContext):
    def __init__(self, function_name: str, region: str = "us-east-1", memory_mb: int = 256):
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = (
            f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        )
        self._memory_limit_in_mb = memory_mb
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000
