"""`python -m model submit`: train as an Azure ML command job on a stack's training cluster, and wait for it.

1. Where: the workspace and cluster the stack declares (model.training_target), checked before any call.
2. The data: the CSV is validated as `model train` reads it, then registered as data asset DATA_ASSET
   (uri_file) under its content version, the first 12 hex digits of its SHA-256 (what the artifact records
   as data_sha256 and the model version's `data_version` tag); an existing version of the same content is
   reused, never replaced, never auto-incremented.
3. The job: model.training_job's JobSpec, submitted through the gateway, which reads the job first: a
   rerun of the same command (after a lost answer, a cancelled CI run) finds the job of that name and
   waits for it instead of starting another.
4. The wait: polls every POLL_SECONDS; one progress line (status, time queued, time running) on stderr
   on each status change and every PROGRESS_SECONDS while it stays, after the job's studio link. Completed: exit 0.
   Failed, Canceled or NotResponding: JobFailed with the job's error (exit 1). Past --timeout: JobFailed
   naming the job, which is left running (run the same command again to wait for it once more).
   Interrupted: LeftRunning (exit 130), the job keeps running.

stdout holds one line, the job name, so that CI can hand it on (its artifact is
azureml://jobs/<name>/outputs/artifact); everything else goes to stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.azureml.errors import AzureMLError
from infra.azureml.jobs import Job
from model.errors import JobFailed, LeftRunning
from model.training_job import Training, job_spec, staged_code
from model.training_target import TargetError, TrainingTarget, training_target

DATA_ASSET = "hate-speech-training-data"
POLL_SECONDS = 10.0
PROGRESS_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 5 * 3600.0  # under GitHub's 6-hour job limit and the life of its OIDC request token


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


clock = SystemClock()  # what `submit` waits with; tests put a clock that does not sleep here


@dataclass(frozen=True)
class SubmitRequest:
    stack: str
    subscription_id: str | None
    data: str
    training: Training
    cluster: str = "gpu"
    workspace: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    wait: bool = True


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def submit(request: SubmitRequest, report: Callable[[str], None] = _report) -> Job:
    """Register the data, submit the job and (unless request.wait is off) wait for it; the job at the end."""
    from infra.release.base import gateway_for
    from infra.release.content import version_of
    from model.data import load_dataset
    from model.provenance import git_commit

    dataset = load_dataset(request.data)  # bad data is refused here, before anything reaches Azure
    target = training_target(request.stack, request.subscription_id, request.cluster, request.workspace)
    _check_nodes(request.training, target)
    data_version = version_of(dataset.sha256)
    gateway = gateway_for(target.workspace)
    with staged_code() as code:
        spec = job_spec(
            request.training,
            target.compute,
            target.has_gpus,
            DATA_ASSET,
            data_version,
            code,
            git_commit(),
            tags={"stack": request.stack},
        )
        try:
            existing = gateway.get_job(spec.name)
            if existing is None:  # a job that exists already reads the data version it was submitted with
                gateway.register_data_asset(
                    DATA_ASSET,
                    data_version,
                    dataset.source,
                    tags={"rows": len(dataset), "hate": int(dataset.labels.sum())},
                    description="labelled tweets for python -m model train, versioned by content",
                )
            job = gateway.submit_job(spec)  # reuses a job of this name, refuses one defined otherwise
        except AzureMLError as error:
            raise JobFailed(f"job {spec.name} was not submitted: {error}") from None
    processes = f"{spec.processes} process{'es' if spec.processes > 1 else ''}"
    how = "submitted" if existing is None else f"exists already ({existing.status}): this run reuses it,"
    report(
        f"job {job.name} {how} on {target.compute} of workspace {target.workspace.workspace_name} "
        f"({target.vm_size}, {processes}): {job.studio_url or 'no studio link'}"
    )
    if request.wait:
        job = _wait(gateway, job, request.timeout_seconds, report)
    if job.terminal and not job.succeeded:
        raise JobFailed(
            f"job {job.name} ended {job.status}"
            + (f": {job.error}" if job.error else "")
            + f"; logs: {job.studio_url or 'the job in Azure ML studio'}"
        )
    print(job.name, flush=True)
    return job


def _check_nodes(training: Training, target: TrainingTarget) -> None:
    if training.instances > target.max_nodes:
        raise TargetError(
            f"--instances is {training.instances}, but {target.compute} of stack {target.stack} scales "
            f"to at most {target.max_nodes} node{'s' if target.max_nodes > 1 else ''}; accepted: 1 to "
            f"{target.max_nodes}"
        )


def _wait(gateway, job: Job, timeout_seconds: float, report: Callable[[str], None]) -> Job:
    started = clock.monotonic()
    printed_at: float | None = None
    printed_status: str | None = None
    try:
        while not job.terminal:
            now = clock.monotonic()
            if job.status != printed_status or printed_at is None or now - printed_at >= PROGRESS_SECONDS:
                report(progress_line(job, clock.now()))
                printed_at, printed_status = now, job.status
            waited = now - started
            if waited >= timeout_seconds:
                raise JobFailed(
                    f"job {job.name} is still {job.status} after {timeout_seconds:g} s (--timeout); it was "
                    f"left running: {job.studio_url or 'see Azure ML studio'}; the same command waits for "
                    "it again"
                )
            clock.sleep(min(POLL_SECONDS, timeout_seconds - waited))
            try:
                latest = gateway.get_job(job.name)
            except AzureMLError as error:
                raise JobFailed(f"job {job.name} may still be running, its status cannot be read: {error}") from None
            if latest is None:
                raise JobFailed(f"job {job.name} can no longer be found in the workspace")
            job = latest
    except KeyboardInterrupt:
        raise LeftRunning(
            f"interrupted; job {job.name} keeps running in Azure ML: {job.studio_url or 'see Azure ML studio'}"
        ) from None
    report(progress_line(job, clock.now()))
    return job


def progress_line(job: Job, now: datetime) -> str:
    """`job <name>: <status>  queued <time>  running <time>`, times so far for a job that has not ended."""
    created, started, ended = (_utc(t) for t in (job.created_at, job.started_at, job.ended_at))
    queued = _span(created, started or ended or now) if created else "-"
    running = _span(started, ended or now) if started else "-"
    return f"job {job.name}: {job.status}  queued {queued}  running {running}"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # run history times are UTC


def _span(start: datetime, end: datetime) -> str:
    seconds = max(0, int((end - start) / timedelta(seconds=1)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"
