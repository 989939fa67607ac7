"""The CDK stacks: one shared control-plane stack and one stack per endpoint.

Stacks know nothing of boto3; the functions they deploy know nothing of aws_cdk. Names shared
by both sides live in ``lambdas/control_plane/contract.py``.
"""
