"""The gateway to Azure Machine Learning (azure-ai-ml): see infra.azureml.gateway."""

from infra.azureml.gateway import (
    AzureMLError,
    AzureMLGateway,
    Deployment,
    Endpoint,
    ModelVersion,
    NotFound,
    RetryPolicy,
    WorkspaceRef,
)

__all__ = [
    "AzureMLError",
    "AzureMLGateway",
    "Deployment",
    "Endpoint",
    "ModelVersion",
    "NotFound",
    "RetryPolicy",
    "WorkspaceRef",
]
