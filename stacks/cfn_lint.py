"""cfn-lint on every synthesized template: ``python -m stacks.cfn_lint cdk.out``.

Run by ``make synth`` (so by ``make demo`` and ``make deploy``) and by the infrastructure tests.
Every check we ignore is listed here with its reason.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

IGNORED_CHECKS: dict[str, str] = {
    "W3005": "aws-cdk-lib makes every Lambda function DependsOn its role as well as GetAtt-ing "
    "the role's ARN (the DependsOn also covers the role's policy); the duplicate is harmless "
    "and not ours to remove.",
}


# cfn-lint's E3615 (1.58.0) allows alarm periods of 10, 30 and multiples of 60; CloudWatch's API
# also takes 20 ("Valid values are 10, 20, 30, and any multiple of 60": botocore's model of
# PutMetricAlarm). Only that one value is let through; every other E3615 finding stands, and the
# fleet parser checks each period against the API's rule (config.domain.valid_alarm_period).
_PERIOD_RULE = "E3615"
_PERIODS_CFN_LINT_MISSES = ("20 ",)


def _stands(rule_id: str, message: str) -> bool:
    return not (rule_id == _PERIOD_RULE and message.startswith(_PERIODS_CFN_LINT_MISSES))


def lint_templates(templates: Iterable[Path], regions: list[str]) -> list[str]:
    """cfn-lint findings (one readable line each) for ``templates``; empty when clean."""
    from cfnlint.api import ManualArgs, lint_file

    config = ManualArgs(regions=regions, ignore_checks=sorted(IGNORED_CHECKS))
    findings: list[str] = []
    for template in sorted(templates):
        for match in lint_file(template, config=config):
            if not _stands(match.rule.id, match.message):
                continue
            findings.append(f"{template.name}:{match.linenumber}: {match.rule.id} {match.message}")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cloud_assembly", type=Path, help="cdk synth output folder (cdk.out)")
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        help="region(s) to validate for; default: the fleet file's",
    )
    parser.add_argument("--fleet", default="config/fleet.yaml")
    args = parser.parse_args(argv)
    regions = args.regions
    if not regions:
        from config.fleet import load_fleet

        regions = [load_fleet(args.fleet).region]
    templates = list(args.cloud_assembly.glob("*.template.json"))
    if not templates:
        print(f"cfn-lint: no templates in {args.cloud_assembly}", file=sys.stderr)
        return 1
    findings = lint_templates(templates, regions)
    for line in findings:
        print(line, file=sys.stderr)
    print(
        f"cfn-lint: {len(templates)} templates, {len(findings)} findings "
        f"(ignored: {', '.join(IGNORED_CHECKS) or 'none'})"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
