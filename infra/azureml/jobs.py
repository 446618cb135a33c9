"""Azure ML command jobs as the gateway sees them: the spec a caller submits, the job it reads back,
and the conversions to and from azure-ai-ml's entities.

A `JobSpec` is everything that defines a training job; its name is the caller's (derive it from
what defines the job, so a retried submit finds the same job). azure-ai-ml 1.35 turns the command
job built here into `PUT .../workspaces/{w}/jobs/{name}` (api-version 2025-01-01-preview,
operations/_job_operations.py: create_or_update); an inline `EnvironmentSpec` becomes an anonymous
environment version named after its content (`CliV2AnonymousEnvironment/<hash>`), so the same spec
never registers another one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.azureml.values import is_remote, require_text, state_text
from infra.facts import JOB_NAME as JOB_NAME_PATTERN
from infra.facts import JOB_OUTPUT_NAME, full

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
INPUT_TYPES = ("uri_file", "uri_folder")
JOB_NAME = full(JOB_NAME_PATTERN)
OUTPUT_NAME = full(JOB_OUTPUT_NAME)
CODE_ASSET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices"
    r"/workspaces/[^/]+/codes/[^/]+/versions/[^/]+$",
    re.IGNORECASE,
)


def job_output_uri(job: str, output: str) -> str:
    """How Azure ML names a job's output (what a model registered from it points at)."""
    return f"azureml://jobs/{job}/outputs/{output}"


@dataclass(frozen=True)
class EnvironmentSpec:
    """A training environment built from a base image and either a conda file (a local YAML path) or
    pip requirements (installed with pip into `python_version`); an image alone is used as it is."""

    image: str
    conda_file: str | None = None
    pip_requirements: tuple = ()
    python_version: str = "3.11"

    def __post_init__(self):
        require_text("EnvironmentSpec.image", self.image)
        if self.conda_file is not None and self.pip_requirements:
            raise ValueError("EnvironmentSpec: give conda_file or pip_requirements, not both")
        if self.conda_file is not None and not os.path.isfile(self.conda_file):
            raise ValueError(
                f"EnvironmentSpec.conda_file {self.conda_file!r} is not a file; accepted: the path of a "
                "conda environment YAML"
            )
        if not isinstance(self.pip_requirements, tuple) or not all(
            isinstance(r, str) and r.strip() for r in self.pip_requirements
        ):
            raise ValueError(
                f"EnvironmentSpec.pip_requirements is {self.pip_requirements!r}; accepted: a tuple of "
                "requirement strings"
            )

    def conda(self) -> str | dict | None:
        if self.conda_file is not None:
            return self.conda_file
        if self.pip_requirements:
            return {
                "name": "training",
                "channels": ["conda-forge"],
                "dependencies": [f"python={self.python_version}", "pip", {"pip": list(self.pip_requirements)}],
            }
        return None


@dataclass(frozen=True)
class JobInput:
    """A job input: a registered data asset (`azureml:<name>:<version>`), an azureml:// URI or a URL."""

    path: str
    type: str = "uri_file"

    def __post_init__(self):
        require_text("JobInput.path", self.path)
        if self.type not in INPUT_TYPES:
            raise ValueError(f"JobInput.type is {self.type!r}; accepted: {', '.join(INPUT_TYPES)}")
        if not (self.path.startswith("azureml:") or is_remote(self.path)):
            raise ValueError(
                f"JobInput.path {self.path!r} is local; accepted: azureml:<name>:<version> of a data "
                "asset (register the file with register_data_asset first), an azureml:// URI or a URL"
            )


@dataclass(frozen=True)
class JobSpec:
    """A command job. `code` is a local folder (uploaded as the job's code snapshot) or the ARM id of a
    registered code version; `environment` a registered environment (ARM id, azureml:<name>:<version>
    or azureml://registries/...) or an EnvironmentSpec. More than one process in all
    (instance_count x process_count_per_instance) runs under PyTorchDistribution.
    `environment_variables` are set for the command (part of what defines the job)."""

    name: str
    command: str
    code: str
    environment: str | EnvironmentSpec
    compute: str
    inputs: dict = field(default_factory=dict)
    outputs: tuple = ()
    instance_count: int = 1
    process_count_per_instance: int = 1
    experiment_name: str = "Default"
    tags: dict = field(default_factory=dict)
    description: str = ""
    environment_variables: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.name, str) or not JOB_NAME.fullmatch(self.name):
            raise ValueError(
                f"JobSpec.name is {self.name!r}; accepted: letters, digits, '-' and '_', starting with a "
                "letter or digit, at most 255 characters"
            )
        for name in ("command", "code", "compute", "experiment_name"):
            require_text(f"JobSpec.{name}", getattr(self, name))
        if not os.path.isdir(self.code) and not CODE_ASSET_ID.match(self.code):
            raise ValueError(f"JobSpec.code {self.code!r} is neither a local folder nor the ARM id of a code version")
        if isinstance(self.environment, str):
            require_text("JobSpec.environment", self.environment)
        elif not isinstance(self.environment, EnvironmentSpec):
            raise ValueError(
                f"JobSpec.environment is {type(self.environment).__name__}; accepted: a registered "
                "environment id or an EnvironmentSpec"
            )
        if not isinstance(self.inputs, dict) or not all(
            isinstance(k, str) and isinstance(v, JobInput) for k, v in self.inputs.items()
        ):
            raise ValueError("JobSpec.inputs: accepted: a dict of input name to JobInput")
        if not isinstance(self.outputs, tuple) or not all(
            isinstance(o, str) and OUTPUT_NAME.fullmatch(o) and o != "default" for o in self.outputs
        ):
            raise ValueError(
                f"JobSpec.outputs is {self.outputs!r}; accepted: a tuple of output names (letters, "
                "digits and '_', not 'default')"
            )
        for name in ("instance_count", "process_count_per_instance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"JobSpec.{name} is {value!r}; accepted: an integer >= 1")
        for name in ("tags", "environment_variables"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError(f"JobSpec.{name}: accepted: a dict of str to str")

    @property
    def processes(self) -> int:
        return self.instance_count * self.process_count_per_instance


@dataclass(frozen=True)
class Job:
    """A job as Azure ML reports it: the ARM job (status, outputs, studio link) and its run history
    (start and end times, the error of a failed run)."""

    name: str
    status: str
    experiment_name: str
    compute: str | None
    command: str
    studio_url: str | None
    outputs: dict  # output name -> azureml://jobs/<name>/outputs/<output>
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None
    tags: dict = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "Completed"


def compute_name(compute: Any) -> str:
    """A job's compute as azure-ai-ml reads it back (a name, `azureml:<name>` or an ARM id) -> its name."""
    return str(compute or "").rsplit("/", 1)[-1].removeprefix("azureml:")


def command_job(spec: JobSpec, code: str):
    """The azure-ai-ml command job for a spec; `code` is the folder or code asset id to send."""
    from azure.ai.ml import Input, Output, PyTorchDistribution, command
    from azure.ai.ml.entities import Environment

    environment: Any = spec.environment
    if isinstance(environment, EnvironmentSpec):
        environment = Environment(image=environment.image, conda_file=environment.conda())
    # None is azure.ai.ml.command()'s default (entities/_builders/command_func.py): one process per node
    distribution = (
        PyTorchDistribution(process_count_per_instance=spec.process_count_per_instance) if spec.processes > 1 else None
    )
    return command(
        name=spec.name,
        display_name=spec.name,
        description=spec.description or None,
        tags=dict(spec.tags),
        command=spec.command,
        code=code,
        environment=environment,
        compute=spec.compute,
        experiment_name=spec.experiment_name,
        instance_count=spec.instance_count,
        environment_variables=dict(spec.environment_variables) or None,
        inputs={k: Input(type=v.type, path=v.path) for k, v in spec.inputs.items()},
        outputs={name: Output(type="uri_folder") for name in spec.outputs},
        distribution=distribution,
    )


def job_from_entities(entity: Any, details: Any) -> Job:
    """A Job from azure-ai-ml's Job entity and the run-history RunDetails of the same run."""
    services = getattr(entity, "services", None) or {}
    studio = services.get("Studio")
    error = None
    run_error = getattr(details, "error", None)
    root = getattr(run_error, "error", None) if run_error is not None else None
    if root is not None:
        error = " ".join(part for part in (getattr(root, "code", None), getattr(root, "message", None)) if part) or None
    outputs = {
        name: job_output_uri(entity.name, name)
        for name in (getattr(entity, "outputs", None) or {})
        if name != "default"
    }
    created = getattr(entity, "creation_context", None)
    compute = getattr(entity, "compute", None)
    return Job(
        name=entity.name,
        # run history's status, so that it agrees with the times and the error read with it
        status=state_text(getattr(details, "status", None) or entity.status),
        experiment_name=str(entity.experiment_name or "Default"),
        compute=compute_name(compute) if compute else None,
        command=str(getattr(entity, "command", "") or ""),
        studio_url=getattr(studio, "endpoint", None) if studio is not None else None,
        outputs=outputs,
        created_at=getattr(created, "created_at", None) if created is not None else None,
        started_at=getattr(details, "start_time_utc", None),
        ended_at=getattr(details, "end_time_utc", None),
        error=error,
        tags=dict(entity.tags or {}),
    )
