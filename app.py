#!/usr/bin/env python3
"""CDK entry point: ``cdk synth -c fleet=config/fleet.yaml`` (the default)."""

from __future__ import annotations

import sys

import aws_cdk as cdk

from config.fleet import ConfigError, load_fleet
from stacks.app import build_app
from stacks.assets import AssetError


def main() -> None:
    app = cdk.App()
    fleet_path = app.node.try_get_context("fleet") or "config/fleet.yaml"
    try:
        fleet = load_fleet(fleet_path)
        build_app(fleet, app=app)
    except (ConfigError, AssetError) as exc:
        # The message names the file, the field and what is allowed; a traceback adds nothing.
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
