"""What a release candidate is made of, read where it lives (model_ref.py names the kinds).

LocalFolder     its files on this machine, by the rule of content.py
JobOutput       the job must have Completed: one still running, or that ended Failed, Canceled or
                NotResponding, is refused with its status and error (nothing is registered from
                it). The files the job wrote are read into a local copy (artifacts.job_output_copy)
                and hashed by the same rule, so the version is the one the folder has when trained
                locally; artifact.json and metrics.json give the tags
RegistryModel,  a version registered already: the content digest it records
WorkspaceModel  (properties.content_sha256, which ModelVersion wrote in dev and a registry import
                copies), whose version must be the version in its reference, and its tags
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .artifacts import job_output_copy
from .content import ARTIFACT_FILE, artifact_facts, content_sha256, version_of
from .model_ref import JobOutput
from .traffic.stages import STAGE_TAG


class SourceRefused(ValueError):
    """The candidate cannot be released: a job that did not complete, a version that is missing or
    does not hold the content its version names."""


@dataclass(frozen=True)
class SourceFacts:
    content_sha256: str
    facts: dict  # {"artifact": {...}, "metrics": {...}} of artifact files, {} for a registered version
    tags: dict  # the tags a registered version carries (provenance, metrics), without `stage`
    job_name: str | None = None  # the training job it came from (its lineage)

    @property
    def version(self) -> str:
        return version_of(self.content_sha256)


def local_facts(folder: str) -> SourceFacts:
    return SourceFacts(content_sha256(folder), artifact_facts(folder), {})


def job_output_facts(gateway, ref: JobOutput, cache_dir: Path | None = None) -> SourceFacts:
    """The facts of a training job's output, read through `gateway` (the job's workspace)."""
    job = gateway.get_job(ref.job)
    where = f"workspace {gateway.workspace.workspace_name}"
    if job is None:
        raise SourceRefused(f"job {ref.job} does not exist in {where}; accepted: the output of a job submitted there")
    if not job.terminal:
        raise SourceRefused(
            f"job {ref.job} is {job.status}: its output is released once the job Completed "
            "(`python -m model submit` without --no-wait waits for it)"
        )
    if not job.succeeded:
        error = f": {job.error}" if job.error else ""
        raise SourceRefused(
            f"job {ref.job} ended {job.status}{error}; nothing is registered from it "
            f"(logs: {job.studio_url or 'the job in Azure ML studio'})"
        )
    if ref.output not in job.outputs:
        raise SourceRefused(
            f"job {ref.job} has no output {ref.output!r}; accepted: one of {sorted(job.outputs) or 'none'}"
        )
    folder = job_output_copy(gateway, ref.job, ref.output, cache_dir)
    if not (folder / ARTIFACT_FILE).is_file():
        raise SourceRefused(
            f"the output {ref.output!r} of job {ref.job} holds no {ARTIFACT_FILE}; accepted: the folder "
            "`python -m model train` writes"
        )
    facts = local_facts(str(folder))
    return SourceFacts(facts.content_sha256, facts.facts, {}, ref.job)


def registered_facts(model, uri: str) -> SourceFacts:
    """The facts of a registered version (a gateway ModelVersion, or None when it does not exist)."""
    if model is None:
        raise SourceRefused(f"{uri} does not exist")
    recorded = model.properties.get("content_sha256")
    if not isinstance(recorded, str) or version_of(recorded) != model.version:
        raise SourceRefused(
            f"{uri} records content {recorded!r}, which is not content version {model.version}; accepted: a "
            "version this platform registered (its content_sha256 property starts with its version)"
        )
    tags = {k: v for k, v in model.tags.items() if k != STAGE_TAG}
    return SourceFacts(recorded, {}, tags, model.job_name)
