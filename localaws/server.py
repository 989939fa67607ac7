"""moto's server on loopback, and the process environment that sends boto3 to it.

Everything goes over HTTP to ``127.0.0.1``: ``local_credentials`` points every boto3 client of
the process (the handlers' too) at the server with fake credentials
(``lambda_runtime.Environment`` sets them and puts the old values back).
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from . import sagemaker_ic


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server with the inference-component extension, on a free loopback port.

    Yields the endpoint URL. Every backend is reset first, so a run never sees an earlier
    run's resources in the same process.
    """
    from moto.server import ThreadedMotoServer

    sagemaker_ic.install()
    # werkzeug logs each request to stderr; a run makes thousands.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
        yield url
    finally:
        server.stop()


def local_credentials(url: str, region: str) -> dict[str, str]:
    """Environment that sends every boto3 client to the local server with fake credentials."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_SESSION_TOKEN": "demo",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # Nothing may leave the machine: no instance metadata lookups, no config files.
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
