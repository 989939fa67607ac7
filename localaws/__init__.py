"""Local AWS: what moto lacks for this project, added on top of it.

* ``sagemaker_ic.install()`` teaches moto's SageMaker inference components and
  inference-component endpoint configurations (their state: ``inference_components``);
* ``cloudwatch``: CloudWatch's publishing delay and alarm evaluation;
* ``sqs_delivery``: SQS's event source for Lambda, delayed messages delivered in simulated time;
* ``lambda_runtime``: handlers run in-process with their environment and a Lambda context;
* ``agenda``: actions due at simulated times; ``server``: moto's server on loopback;
* ``events``: real-shaped events for the handlers.

The tests and the local end-to-end demo both use it.
"""
