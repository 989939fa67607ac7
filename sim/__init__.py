"""Cold-start model, CloudWatch behaviour, traffic and a fleet simulator comparing policies.

Run as ``python -m sim coldstart|bench|plan|trace ...`` (``--help`` for each).
"""
