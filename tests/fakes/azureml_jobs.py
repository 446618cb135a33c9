"""Azure ML command jobs as the fake runs them: the ARM job documents, the status lifecycle, cancellation
and the run-history details (start and end times, the error of a failed job).

A job is created NotStarted and moves one status per step through Queued, Preparing and Running to
its planned outcome (Completed unless `plan` says Failed or NotResponding with an error). A step is
one request to the fake (`tick`, unless `auto_advance` is off) or an explicit `advance`; `finish`
ends a job at once. A cancel request puts it in CancelRequested (no further steps) and the cancel's
long-running operation ends it Canceled. Terminal statuses never change again.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.azureml_rules import refuse

PROVIDER = "Microsoft.MachineLearningServices"
LIFECYCLE = ("NotStarted", "Queued", "Preparing", "Running")
TERMINAL = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
OUTCOMES = ("Completed", "Failed", "NotResponding")  # how a job may end by itself
JOB_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$")
# What defines a job: a PUT on an existing job may change tags, description and display name only.
DEFINITION = (
    "jobType",
    "command",
    "codeId",
    "environmentId",
    "computeId",
    "inputs",
    "outputs",
    "distribution",
    "resources",
    "environmentVariables",
    "experimentName",
)


def output_datastore_path(job: str, output: str) -> str:
    """Where a named output without a path lands: Azure ML's default output path template
    azureml://datastores/${{default_datastore}}/paths/azureml/${{name}}/${{output_name}}/."""
    return f"azureml/{job}/{output}/"


@dataclass
class _Job:
    resource: dict
    outcome: str = "Completed"
    error: str | None = None
    created: str = ""
    started: str | None = None
    ended: str | None = None
    run_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def status(self) -> str:
        return self.resource["properties"]["status"]


class Jobs:
    def __init__(
        self,
        workspace_id: str,
        workspace_name: str,
        region: str,
        tick: Callable[[], str],
        system_data: Callable[[dict | None], dict],
    ):
        self._workspace_id = workspace_id
        self._workspace_name = workspace_name
        self._region = region
        self._tick = tick
        self._system_data = system_data
        self._jobs: dict[str, _Job] = {}
        self._plans: dict[str, tuple[str, str | None]] = {}
        self.auto_advance = True

    # ------------------------------------------------------------------ service side
    def put(self, name: str, body: dict, check: Callable[[str, dict], None]) -> tuple[dict, bool]:
        """Create a job (NotStarted) or update an existing one's tags, description and display name.
        `check(name, properties)` applies the workspace's references rules before anything is stored."""
        if not JOB_NAME.match(name):
            refuse(
                400,
                "UserError",
                f"Job name '{name}' is invalid: letters, digits, '-' and '_', starting with a "
                "letter or digit, at most 255 characters.",
            )
        props = body.get("properties")
        if not isinstance(props, dict) or props.get("jobType") != "Command":
            refuse(
                400,
                "UserError",
                f"Job '{name}': properties.jobType must be 'Command' (the fake serves command jobs only).",
            )
        for required in ("command", "environmentId", "computeId"):
            if not props.get(required):
                refuse(400, "UserError", f"Job '{name}': properties.{required} is required.")
        existing = self._jobs.get(name)
        if existing is not None:
            changed = [k for k in DEFINITION if _normal(props, k) != _normal(existing.resource["properties"], k)]
            if changed:
                refuse(
                    409,
                    "Conflict",
                    f"Job '{name}' already exists; {', '.join(changed)} cannot be changed. "
                    "Submit a job with another name.",
                )
            live = existing.resource
            live["properties"].update(
                tags=dict(props.get("tags") or {}),
                description=props.get("description"),
                displayName=props.get("displayName") or live["properties"]["displayName"],
            )
            live["systemData"] = self._system_data(live["systemData"])
            return _copy(live), False
        check(name, props)
        stored = copy.deepcopy(props)
        stored["status"] = LIFECYCLE[0]
        stored.setdefault("displayName", name)
        stored["experimentName"] = props.get("experimentName") or "Default"
        stored["outputs"] = {
            **(stored.get("outputs") or {}),
            "default": {
                "jobOutputType": "uri_folder",
                "mode": "ReadWriteMount",
                "uri": f"azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.{name}",
            },
        }
        stored["services"] = self._services(name)
        stored.setdefault("properties", {})
        stored.setdefault("tags", {})
        stored.setdefault("isArchived", False)
        resource = {
            "id": f"{self._workspace_id}/jobs/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/jobs",
            "properties": stored,
            "systemData": self._system_data(None),
        }
        outcome, error = self._plans.pop(name, ("Completed", None))
        self._jobs[name] = _Job(resource, outcome, error, created=resource["systemData"]["createdAt"])
        return _copy(resource), True

    def get(self, name: str) -> dict:
        return _copy(self._require(name).resource)

    def list(self, view: str | None) -> list[dict]:
        want = (view or "ActiveOnly").lower()
        items = [j.resource for j in self._jobs.values()]
        if want != "all":
            items = [r for r in items if bool(r["properties"].get("isArchived")) == (want == "archivedonly")]
        return [_copy(r) for r in items]

    def request_cancel(self, name: str) -> Callable[[bool], None]:
        """Mark a running job CancelRequested; returns what the cancel operation applies when it ends."""
        job = self._require(name)
        if job.status not in TERMINAL:
            self._set(job, "CancelRequested")

        def finish(succeeded: bool) -> None:
            if succeeded and job.status == "CancelRequested":
                self._end(job, "Canceled", None)

        return finish

    def run_details(self, name: str) -> dict:
        """The run-history document (GET .../history/v1.0/.../runs/{name}/details)."""
        job = self._require(name)
        props = job.resource["properties"]
        details = {
            "runId": name,
            "runUuid": job.run_uuid,
            "status": job.status,
            "target": props["computeId"].rsplit("/", 1)[-1],
            "createdTimeUtc": job.created,
            "startTimeUtc": job.started,
            "endTimeUtc": job.ended,
            "tags": dict(props.get("tags") or {}),
            "properties": dict(props.get("properties") or {}),
            "warnings": [],
            "logFiles": {},
            "services": {},
            "inputDatasets": [],
            "outputDatasets": [],
        }
        if job.error is not None and job.status in ("Failed", "NotResponding"):
            details["error"] = {"error": {"code": "UserError", "message": job.error, "details": []}}
        return details

    def exists(self, name: str) -> bool:
        return name in self._jobs

    def declared_outputs(self, name: str) -> set:
        return set(self._require(name).resource["properties"].get("outputs") or {})

    # ------------------------------------------------------------------ time
    def tick(self) -> None:
        """One request passed: every job that moves by itself takes one step."""
        if self.auto_advance:
            for job in list(self._jobs.values()):
                self._step(job)

    # ------------------------------------------------------------------ test-facing
    def plan(self, name: str, status: str, error: str | None) -> None:
        if status not in OUTCOMES:
            raise ValueError(f"plan_job: status {status!r}; accepted: {', '.join(OUTCOMES)}")
        job = self._jobs.get(name)
        if job is None:
            self._plans[name] = (status, error)
        elif job.status in TERMINAL:
            raise ValueError(f"plan_job: job {name!r} has ended already ({job.status})")
        else:
            job.outcome, job.error = status, error

    def advance(self, name: str, steps: int) -> str:
        job = self._require_known(name)
        for _ in range(steps):
            self._step(job)
        return job.status

    def finish(self, name: str, status: str, error: str | None) -> None:
        job = self._require_known(name)
        if status not in TERMINAL:
            raise ValueError(f"finish_job: status {status!r}; accepted: {', '.join(sorted(TERMINAL))}")
        if job.status in TERMINAL:
            raise ValueError(f"finish_job: job {name!r} has ended already ({job.status})")
        if job.started is None and status != "Canceled":
            job.started = self._tick()
        self._end(job, status, error)

    def job(self, name: str) -> dict | None:
        job = self._jobs.get(name)
        return None if job is None else job.resource

    # ------------------------------------------------------------------ helpers
    def _step(self, job: _Job) -> None:
        status = job.status
        if status in TERMINAL or status == "CancelRequested":
            return
        position = LIFECYCLE.index(status)
        if position + 1 < len(LIFECYCLE):
            self._set(job, LIFECYCLE[position + 1])
            if LIFECYCLE[position + 1] == "Running":
                job.started = self._tick()
        else:
            self._end(job, job.outcome, job.error)

    def _set(self, job: _Job, status: str) -> None:
        job.resource["properties"]["status"] = status

    def _end(self, job: _Job, status: str, error: str | None) -> None:
        job.error = error if status in ("Failed", "NotResponding") else None
        if status in ("Failed", "NotResponding") and job.error is None:
            job.error = f"fake: the job ended {status}"
        self._set(job, status)
        job.ended = self._tick()

    def _require(self, name: str) -> _Job:
        job = self._jobs.get(name)
        if job is None:
            refuse(404, "ResourceNotFound", f"Job '{name}' was not found in workspace '{self._workspace_name}'.")
        return job

    def _require_known(self, name: str) -> _Job:
        job = self._jobs.get(name)
        if job is None:
            raise KeyError(f"no job named {name!r}; submitted: {sorted(self._jobs)}")
        return job

    def _services(self, name: str) -> dict:
        return {
            "Studio": {
                "jobServiceType": "Studio",
                "endpoint": f"https://ml.azure.com/runs/{name}?wsid={self._workspace_id}",
            },
            "Tracking": {
                "jobServiceType": "Tracking",
                "endpoint": f"azureml://{self._region}.api.azureml.ms/mlflow/v1.0{self._workspace_id}",
            },
        }


def _normal(props: dict, key: str):
    value = props.get(key)
    if key == "outputs" and isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "default"}
    if key == "experimentName":
        value = value or "Default"
    return value or None


def _copy(resource: dict) -> dict:
    return copy.deepcopy(resource)
