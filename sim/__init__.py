"""Cold-start model, CloudWatch behaviour, traffic and a fleet simulator comparing policies.

Run as ``python -m sim coldstart ...`` or ``python -m sim replay ...`` (``--help`` for each).
"""
