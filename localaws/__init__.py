"""Local AWS: what moto lacks for this project, added on top of it.

``localaws.sagemaker_ic.install()`` teaches moto's SageMaker backend inference components and
inference-component endpoint configurations. The tests and the local end-to-end demo both use it.
"""
