"""The gateway to Azure Machine Learning (azure-ai-ml): see infra.azureml.gateway."""

from infra.azureml.gateway import (
    AzureMLError,
    AzureMLGateway,
    DataAsset,
    Deployment,
    Endpoint,
    ModelVersion,
    NotFound,
    RetryPolicy,
    WorkspaceRef,
)
from infra.azureml.jobs import EnvironmentSpec, Job, JobInput, JobSpec

__all__ = [
    "AzureMLError",
    "AzureMLGateway",
    "DataAsset",
    "Deployment",
    "Endpoint",
    "EnvironmentSpec",
    "Job",
    "JobInput",
    "JobSpec",
    "ModelVersion",
    "NotFound",
    "RetryPolicy",
    "WorkspaceRef",
]
