"""What `python -m model submit` runs: `python -m model train` as an Azure ML command job (a JobSpec).

- Code: a snapshot of the packages the training command imports (CODE_PACKAGES), copied into a temporary
  folder; never the repository (its venvs, data, infra and tests stay home).
- Environment: requirements/training.txt installed by pip into Python 3.11 (a conda spec Azure ML builds
  into an image once per definition) on an Azure ML base image. A GPU cluster gets GPU_IMAGE, the newest
  CUDA line of Azure ML's base images (CUDA 12.6, Open MPI 5, Ubuntu 24.04; Azure/AzureML-Containers):
  torch's Linux wheels from PyPI bring their own CUDA runtime, cuDNN and NCCL as nvidia-* wheels, so the
  image's part is a CUDA 12 user space and Open MPI on a driver the N-series nodes have. A CPU cluster gets
  CPU_IMAGE, the same line without CUDA. Tags are pinned so that a definition always means the same image.
  Building the environment needs PyPI and conda-forge: a workspace whose managed network allows only
  approved outbound traffic needs FQDN rules for them.
- Input `data`: the registered data asset (uri_file); output `artifact`: the artifact folder train writes.
- More than one process in all runs under PyTorchDistribution: Azure ML starts the processes and sets
  the torch.distributed variables (RANK, WORLD_SIZE, MASTER_ADDR, ...) that `model train` reads.
- The name is derived from the commit, the data version and a digest of everything else that defines
  the job (command and settings, code, environment, cluster, instances, processes, attempt), so the same
  submission finds the same job and any change names another.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.azureml.jobs import EnvironmentSpec, JobInput, JobSpec
from infra.release.content import file_sha256
from model.provenance import SNAPSHOT_COMMIT_VARIABLE

PROJECT_DIR = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("model",)  # all that `python -m model train` imports from this repository
TRAINING_REQUIREMENTS = PROJECT_DIR / "requirements" / "training.txt"
GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-cuda12.6-ubuntu24.04:20250303.v1"
CPU_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:20250303.v1"
EXPERIMENT = "hate-speech-training"
DATA_INPUT = "data"
ARTIFACT_OUTPUT = "artifact"
JOB_PREFIX = "train"
DIGEST_LENGTH = 8


@dataclass(frozen=True)
class CodeSnapshot:
    folder: str
    digest: str  # sha256 over each file's path and content digest


@dataclass(frozen=True)
class Training:
    """One training as asked for: `model train`'s settings options and how many processes run it."""

    options: tuple[tuple[str, str], ...]  # (option, value) of `model train`, e.g. ("--preset", "default")
    instances: int = 1
    processes_per_instance: int = 1
    attempt: int = 1  # a new attempt names a new job for the same definition (after a preempted run)


def _code_files(root: Path = PROJECT_DIR) -> list[Path]:
    files = [
        path
        for package in CODE_PACKAGES
        for path in (root / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    return sorted(files)


@contextlib.contextmanager
def staged_code(root: Path = PROJECT_DIR) -> Iterator[CodeSnapshot]:
    """A temporary folder holding the CODE_PACKAGES of `root`, removed afterwards, and its digest."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="training-code-") as scratch:
        folder = Path(scratch) / "code"
        for source in _code_files(root):
            relative = source.relative_to(root)
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            digest.update(f"{relative.as_posix()}\0{file_sha256(target)}\n".encode())
        yield CodeSnapshot(str(folder), digest.hexdigest())


def training_requirements(path: Path = TRAINING_REQUIREMENTS) -> tuple[str, ...]:
    """The requirement lines of a pip requirements file, without comments and blank lines."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        requirement = line.split(" #", 1)[0].strip()
        if not requirement or requirement.startswith("#"):
            continue
        if requirement.startswith("-"):
            raise ValueError(
                f"{path}: line {number} is a pip option ({requirement!r}); accepted: requirement lines "
                "only, which the job's conda environment lists as they are"
            )
        found.append(requirement)
    return tuple(found)


def environment_for(has_gpus: bool) -> EnvironmentSpec:
    return EnvironmentSpec(image=GPU_IMAGE if has_gpus else CPU_IMAGE, pip_requirements=training_requirements())


def train_command(training: Training) -> str:
    """The job's command; not --quiet: the job's log is not a terminal, so it gets one line per epoch (rank 0's)."""
    options = " ".join(f"{option} {shlex.quote(value)}" for option, value in training.options)
    return (
        f"python -m model train --data ${{{{inputs.{DATA_INPUT}}}}} --out ${{{{outputs.{ARTIFACT_OUTPUT}}}}} "
        f"--json {options}"
    ).strip()


def _commit_part(commit: str | None) -> str:
    if not commit:
        return "nogit"
    head = commit.removesuffix("-dirty")[:DIGEST_LENGTH]
    return f"{head}-dirty" if commit.endswith("-dirty") else head


def job_spec(
    training: Training,
    compute: str,
    has_gpus: bool,
    data_asset: str,
    data_version: str,
    code: CodeSnapshot,
    commit: str | None,
    tags: Mapping[str, str] | None = None,
) -> JobSpec:
    """The command job of `training` on `compute`, reading data asset `data_asset` at `data_version`."""
    command = train_command(training)
    environment = environment_for(has_gpus)
    data = JobInput(f"azureml:{data_asset}:{data_version}", type="uri_file")
    variables = {SNAPSHOT_COMMIT_VARIABLE: commit} if commit else {}
    definition = {
        "command": command,
        "code": code.digest,
        "image": environment.image,
        "requirements": list(environment.pip_requirements),
        "python": environment.python_version,
        "compute": compute,
        "instances": training.instances,
        "processes_per_instance": training.processes_per_instance,
        "data": data.path,
        "experiment": EXPERIMENT,
        "environment_variables": variables,
        "attempt": training.attempt,
    }
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode("utf-8")).hexdigest()[:DIGEST_LENGTH]
    attempt = f"-a{training.attempt}" if training.attempt > 1 else ""
    name = f"{JOB_PREFIX}-{_commit_part(commit)}-{data_version}-{digest}{attempt}"
    return JobSpec(
        name=name,
        command=command,
        code=code.folder,
        environment=environment,
        compute=compute,
        inputs={DATA_INPUT: data},
        outputs=(ARTIFACT_OUTPUT,),
        instance_count=training.instances,
        process_count_per_instance=training.processes_per_instance,
        experiment_name=EXPERIMENT,
        tags={
            "commit": commit or "none",
            "data_version": data_version,
            "code_digest": code.digest[:12],
            **dict(tags or {}),
        },
        description=f"python -m model train on {compute}, data version {data_version}",
        environment_variables=variables,
    )
