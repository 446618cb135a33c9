"""`python -m model submit` against the Azure ML fake, through the real azure-ai-ml code path (the gateway
with the fake's transport), for the dev stack's workspace and clusters as its offline plan declares them.

The wait runs on a clock that does not sleep (model.submit.clock); `on_sleep` lets a test act while the
job runs, as Azure ML would: end it Failed, Canceled, or interrupt the wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import model.submit as submit_module
from infra.azureml.gateway import RetryPolicy
from infra.release.base import use_gateway_factory
from model.__main__ import main
from model.submit import DATA_ASSET, POLL_SECONDS, PROGRESS_SECONDS
from model.synthetic import write_synthetic_csv
from model.training_job import CPU_IMAGE, GPU_IMAGE, staged_code, training_requirements
from tests.fakes.azureml import FakeAzureML, gateway_for
from tests.hostile.model_cli import SUBSCRIPTION
from tests.model.test_hostile_cli import run as run_cli

DEV = {"resource_group": "rg-mlops-dev", "workspace_name": "mlw-mlops-hatespeech-dev-a1"}  # Pulumi.dev.yaml's names
# The fake stamps its documents with its own clock, one second per request from 2026-01-01T00:00:00Z; the
# wait's clock starts later, so that times measured against it come out positive.
STARTED = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


class Clock:
    def __init__(self, on_sleep=None):
        self.elapsed = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def now(self) -> datetime:
        return STARTED + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def fake():
    fake = FakeAzureML(
        subscription_id=SUBSCRIPTION, resource_group=DEV["resource_group"], workspace_name=DEV["workspace_name"]
    )
    fake.add_compute("gpu-cluster", vm_size="Standard_NC4as_T4_v3", max_nodes=1)
    fake.add_compute("cpu-cluster", vm_size="Standard_DS3_v2", max_nodes=2)
    return fake


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(submit_module, "clock", clock)
    return clock


@pytest.fixture
def azure(fake, clock):
    fake.auto_advance_jobs = False  # jobs move when a test moves them (advance_job, finish_job)
    gateway = gateway_for(fake, retry=RetryPolicy(attempts=3))
    with use_gateway_factory(fake.workspace_ref(), lambda ref: gateway):
        yield fake


@pytest.fixture
def data(tmp_path):
    return write_synthetic_csv(tmp_path / "train.csv", n_rows=200, seed=0)


def run(capsys, *options, data):
    return run_cli(capsys, ["submit", "--stack", "dev", "--subscription", SUBSCRIPTION, "--data", str(data), *options])


def submitted(fake) -> str:
    return fake.calls_to("jobs.put")[0].path.rsplit("/", 1)[-1]


def error_line(err: str) -> str:
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    return errors[0]


# ---------------------------------------------------------------------- submit, wait, succeed
def test_a_job_is_submitted_with_its_data_code_and_environment_and_waited_for_until_it_completes(
    azure, clock, data, capsys
):
    clock.on_sleep = lambda n: azure.advance_job(submitted(azure))  # one status per poll
    status, out, err = run(capsys, "--preset", "tiny", "--epochs", "3", data=data)

    assert status == 0, err
    name = submitted(azure)
    assert out == f"{name}\n"
    data_version = hashlib.sha256(Path(data).read_bytes()).hexdigest()[:12]  # what the artifact records
    assert name.startswith("train-") and f"-{data_version}-" in name

    job = azure.calls_to("jobs.put")[0].body["properties"]
    assert job["command"] == (
        "python -m model train --data ${{inputs.data}} --out ${{outputs.artifact}} --json --preset tiny --epochs 3"
    )
    assert job["computeId"].endswith("/computes/gpu-cluster") and job["resources"]["instanceCount"] == 1
    assert "distribution" not in job and job["experimentName"] == "hate-speech-training"
    assert job["inputs"]["data"]["uri"] == azure.data_version_id(DATA_ASSET, data_version)
    assert job["inputs"]["data"]["jobInputType"] == "uri_file" and "artifact" in job["outputs"]
    commit = job["environmentVariables"]["MODEL_SOURCE_COMMIT"]
    assert job["tags"]["commit"] == commit and name.startswith(f"train-{commit[:8]}")

    registered = azure.data_version(DATA_ASSET, data_version)["properties"]
    assert registered["dataType"] == "uri_file"
    assert azure.blobs[registered["dataUri"].split("/paths/", 1)[1]] == Path(data).read_bytes()

    environment = azure.asset_version(job["environmentId"])["properties"]
    assert environment["image"] == GPU_IMAGE  # the dev GPU cluster is Standard_NC4as_T4_v3
    assert all(requirement in environment["condaFile"] for requirement in training_requirements())

    code_uri = azure.asset_version(job["codeId"])["properties"]["codeUri"]
    prefix = code_uri.split("/paths/", 1)[1]
    uploaded = {path[len(prefix) :] for path in azure.blobs if path.startswith(prefix)}
    assert {"model/__main__.py", "model/train.py", "model/data.py"} <= uploaded
    assert all(path.startswith("model/") and "__pycache__" not in path for path in uploaded)  # not the repository

    progress = [line for line in err.splitlines() if line.startswith(f"job {name}: ")]
    assert f"job {name} submitted on gpu-cluster of workspace {DEV['workspace_name']}" in err
    assert f"https://ml.azure.com/runs/{name}" in err
    assert [line.split()[2] for line in progress] == ["NotStarted", "Queued", "Preparing", "Running", "Completed"]
    assert re.fullmatch(rf"job {name}: Completed  queued \d+m\d\ds  running \d+m\d\ds", progress[-1])
    assert all(seconds <= POLL_SECONDS for seconds in clock.sleeps)
    assert azure.calls_to("model_versions.put") == []  # registering the candidate is the release's step


def test_more_than_one_process_runs_under_pytorch_distribution_on_the_cpu_cluster_without_cuda(azure, data, capsys):
    status, out, err = run(
        capsys, "--cluster", "cpu", "--instances", "2", "--processes-per-instance", "2", "--no-wait", data=data
    )
    assert status == 0, err
    job = azure.calls_to("jobs.put")[0].body["properties"]
    assert job["distribution"] == {"distributionType": "PyTorch", "processCountPerInstance": 2}
    assert job["resources"]["instanceCount"] == 2 and job["computeId"].endswith("/computes/cpu-cluster")
    assert azure.asset_version(job["environmentId"])["properties"]["image"] == CPU_IMAGE
    assert "4 processes" in err


def test_no_wait_prints_the_job_name_and_leaves_the_job_running(azure, clock, data, capsys):
    status, out, err = run(capsys, "--no-wait", data=data)
    assert status == 0, err
    assert out == f"{submitted(azure)}\n" and clock.sleeps == []
    assert azure.job(submitted(azure))["properties"]["status"] == "NotStarted"


# ---------------------------------------------------------------------- jobs that do not complete
@pytest.mark.parametrize(
    "outcome, error, words",
    [
        ("Failed", "CUDA out of memory on rank 1", "ended Failed: UserError CUDA out of memory on rank 1"),
        ("NotResponding", "no heartbeat from node 0", "ended NotResponding: UserError no heartbeat from node 0"),
        ("Canceled", None, "ended Canceled"),
    ],
)
def test_a_job_that_does_not_complete_is_one_error_line_with_its_error_and_exit_1(
    azure, clock, data, capsys, outcome, error, words
):
    clock.on_sleep = lambda n: azure.finish_job(submitted(azure), outcome, error=error) if n == 2 else None
    status, out, err = run(capsys, data=data)

    assert status == 1 and out == ""
    name = submitted(azure)
    assert (
        error_line(err)
        == f"error: job {name} {words}; logs: https://ml.azure.com/runs/{name}?wsid={azure.workspace_id}"
    )
    assert azure.calls_to("model_versions.put") == []


def test_past_the_timeout_the_job_is_left_running_and_named(azure, clock, data, capsys):
    status, out, err = run(capsys, "--timeout", "45", data=data)

    assert status == 1 and out == ""
    name = submitted(azure)
    assert error_line(err).startswith(
        f"error: job {name} is still NotStarted after 45 s (--timeout); it was left "
        f"running: https://ml.azure.com/runs/{name}"
    )
    assert azure.job(name)["properties"]["status"] == "NotStarted" and azure.calls_to("jobs.cancel") == []
    assert sum(clock.sleeps) == 45 and max(clock.sleeps) <= POLL_SECONDS
    progress = [line for line in err.splitlines() if line.startswith(f"job {name}: ")]
    queued = [re.fullmatch(rf"job {name}: NotStarted  queued (\d+)m(\d\d)s  running -", line) for line in progress]
    assert len(queued) == 2 and all(queued)  # at 0 s and at 30 s: no more than once per PROGRESS_SECONDS
    first, second = (60 * int(m.group(1)) + int(m.group(2)) for m in queued)
    assert second - first == PROGRESS_SECONDS


def test_an_interrupted_wait_says_the_job_keeps_running(azure, clock, data, capsys):
    def interrupt(n):
        raise KeyboardInterrupt

    clock.on_sleep = interrupt
    status, out, err = run(capsys, data=data)
    assert status == 130
    assert error_line(err) == (
        f"error: interrupted; job {submitted(azure)} keeps running in Azure ML: "
        f"https://ml.azure.com/runs/{submitted(azure)}?wsid={azure.workspace_id}"
    )


def test_a_submission_azure_refuses_is_one_error_line_naming_the_job(azure, data, capsys):
    azure.fail(
        "jobs.put",
        403,
        message="The client does not have authorization to perform action jobs/write",
        code="AuthorizationFailed",
    )
    status, out, err = run(capsys, data=data)
    assert status == 1 and out == ""
    line = error_line(err)
    assert line.startswith("error: job train-") and "was not submitted" in line
    assert "HTTP 403 AuthorizationFailed: The client does not have authorization" in line


# ---------------------------------------------------------------------- retries reuse the job
def test_a_rerun_reuses_the_job_and_its_data_instead_of_starting_another(azure, data, capsys):
    first = run(capsys, "--no-wait", data=data)
    azure.auto_advance_jobs = True  # it runs to completion while the rerun waits
    second = run(capsys, data=data)

    assert first[0] == second[0] == 0 and first[1] == second[1]
    name = submitted(azure)
    assert f"job {name} exists already (" in second[2] and "): this run reuses it" in second[2]
    assert [len(azure.calls_to(op)) for op in ("jobs.put", "code_versions.put", "data_versions.put")] == [1, 1, 1]
    assert azure.job(name)["properties"]["status"] == "Completed"
    third = run(capsys, data=data)  # after it completed: reported at once, nothing written
    assert third[0] == 0 and third[1] == f"{name}\n" and len(azure.calls_to("jobs.put")) == 1


def test_a_lost_submit_answer_is_retried_into_the_same_job(azure, data, capsys):
    azure.lose_response("jobs.put")
    status, out, err = run(capsys, "--no-wait", data=data)
    assert status == 0, err
    assert [c.response_lost for c in azure.calls_to("jobs.put")] == [True]


@pytest.mark.parametrize(
    "change",
    [("--epochs", "3"), ("--seed", "1"), ("--processes-per-instance", "2"), ("--attempt", "2"), ("--cluster", "cpu")],
)
def test_anything_that_defines_the_job_names_another(azure, data, capsys, change):
    base = run(capsys, "--no-wait", data=data)[1]
    other = run(capsys, "--no-wait", *change, data=data)[1]
    assert base != other and len(azure.calls_to("jobs.put")) == 2


def test_other_data_names_another_job_and_another_data_version(azure, data, tmp_path, capsys):
    other = write_synthetic_csv(tmp_path / "other.csv", n_rows=200, seed=5)
    first, second = run(capsys, "--no-wait", data=data)[1], run(capsys, "--no-wait", data=other)[1]
    assert first != second and len(azure.calls_to("data_versions.put")) == 2


# ---------------------------------------------------------------------- bad input: one line, nothing sent
def test_without_a_subscription_the_error_names_the_option_and_the_variables(fake, data, capsys, monkeypatch):
    for name in ("AZURE_SUBSCRIPTION_ID", "ARM_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    status, out, err = main(["submit", "--stack", "dev", "--data", str(data)]), *capsys.readouterr()
    assert status == 2 and out == ""
    assert error_line(err).startswith("error: --subscription is None; accepted: the subscription GUID")
    assert fake.calls == []


def test_the_subscription_comes_from_the_environment_as_ci_sets_it(azure, data, capsys, monkeypatch):
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", SUBSCRIPTION)
    status = main(["submit", "--stack", "dev", "--data", str(data), "--no-wait"])
    assert status == 0 and azure.calls_to("jobs.put")


# ---------------------------------------------------------------------- the code snapshot
@pytest.mark.slow
def test_the_code_snapshot_alone_trains_and_records_the_commit(tmp_path, data):
    """The job runs `python -m model train` from the uploaded snapshot, with no repository beside it."""
    with staged_code() as code:
        env = {
            **os.environ,
            "MODEL_SOURCE_COMMIT": "0a1b2c3d4e5f",
            "GIT_CEILING_DIRECTORIES": str(Path(code.folder).parent),
        }
        env.pop("PYTHONPATH", None)
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "model",
                "train",
                "--data",
                str(data),
                "--out",
                str(tmp_path / "artifact"),
                "--preset",
                "tiny",
                "--num-threads",
                "1",
                "--quiet",
            ],
            cwd=code.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert finished.returncode == 0, finished.stderr
    assert json.loads((tmp_path / "artifact" / "artifact.json").read_text())["commit"] == "0a1b2c3d4e5f"
