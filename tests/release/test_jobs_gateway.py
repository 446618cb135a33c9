"""The gateway's jobs and data assets against the fake, through azure-ai-ml's real code path.

submit_job GETs the job first and PUTs only when it is absent (so a retry reuses the job); get_job
reads the ARM job and its run history (start/end times and the error, as azure-ai-ml's jobs.stream
does in operations/_job_ops_helper.py); every failure is an AzureMLError naming the operation, the
resource and the status, retried only for 429 (honouring Retry-After), 5xx and lost connections.
"""

from __future__ import annotations

import pytest

from infra.azureml import AzureMLError, EnvironmentSpec, JobInput, JobSpec, NotFound, RetryPolicy
from tests.fakes.azureml import FakeAzureML, gateway_for

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04"
COMMAND = "python -m model train --data ${{inputs.data}} --out ${{outputs.artifact}}"


@pytest.fixture
def fake():
    fake = FakeAzureML()
    fake.add_compute("gpu-cluster", max_nodes=2)
    return fake


@pytest.fixture
def gateway(fake):
    return gateway_for(fake, retry=RetryPolicy(attempts=3))


@pytest.fixture
def code(tmp_path):
    folder = tmp_path / "src"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "__main__.py").write_text("print('train')\n")
    return folder


def spec(code_folder, name="train-0a1b2c", **changes) -> JobSpec:
    fields = dict(
        name=name,
        command=COMMAND,
        code=str(code_folder),
        environment=EnvironmentSpec(image=IMAGE, pip_requirements=("torch==2.5.1", "transformers==5.0.0")),
        compute="gpu-cluster",
        inputs={"data": JobInput("azureml:tweets:5d41402a")},
        outputs=("artifact",),
        instance_count=2,
        process_count_per_instance=2,
        experiment_name="hate-speech",
        tags={"commit": "0a1b2c"},
    )
    fields.update(changes)
    return JobSpec(**fields)


def with_data(fake):
    fake.add_data_version("tweets", "5d41402a", fake.datastore_uri("LocalUpload/0a/tweets.csv"))


def wait(gateway, name, polls=20):
    job = gateway.get_job(name)
    for _ in range(polls):
        if job.terminal:
            return job
        job = gateway.get_job(name)
    raise AssertionError(f"job {name} did not end: {job.status}")


# ---------------------------------------------------------------------- submit and wait
def test_a_submitted_job_runs_to_completion_with_its_outputs_and_times(fake, gateway, code):
    with_data(fake)
    fake.auto_advance_jobs = False
    job = gateway.submit_job(spec(code))
    assert job.status == "NotStarted" and not job.terminal and job.started_at is None
    assert job.outputs == {"artifact": "azureml://jobs/train-0a1b2c/outputs/artifact"}
    assert job.studio_url.startswith("https://ml.azure.com/runs/train-0a1b2c")
    assert job.compute == "gpu-cluster" and job.tags == {"commit": "0a1b2c"}

    put = fake.calls_to("jobs.put")[0].body["properties"]
    assert put["distribution"] == {"distributionType": "PyTorch", "processCountPerInstance": 2}
    assert put["resources"]["instanceCount"] == 2 and put["experimentName"] == "hate-speech"
    assert put["codeId"] == fake.code_version_id("train-0a1b2c", "1")
    assert fake.asset_version(put["codeId"])["properties"]["codeUri"].endswith("/src/")  # uploaded snapshot
    env = fake.asset_version(put["environmentId"])["properties"]
    assert env["image"] == IMAGE and "torch==2.5.1" in env["condaFile"]

    fake.auto_advance_jobs = True
    done = wait(gateway, "train-0a1b2c")
    assert done.succeeded and done.error is None
    assert done.started_at is not None and done.ended_at > done.started_at


def test_one_process_in_all_runs_without_a_distribution(fake, gateway, code):
    with_data(fake)
    gateway.submit_job(spec(code, instance_count=1, process_count_per_instance=1))
    assert "distribution" not in fake.calls_to("jobs.put")[0].body["properties"]


def test_environment_variables_are_set_for_the_command(fake, gateway, code):
    with_data(fake)
    gateway.submit_job(spec(code, environment_variables={"MODEL_SOURCE_COMMIT": "0a1b2c"}))
    assert fake.calls_to("jobs.put")[0].body["properties"]["environmentVariables"] == {"MODEL_SOURCE_COMMIT": "0a1b2c"}
    with pytest.raises(ValueError, match="JobSpec.environment_variables"):
        spec(code, environment_variables={"SEED": 1})


def test_a_registered_code_and_environment_are_sent_as_they_are(fake, gateway):
    with_data(fake)
    fake.add_code_version("src", "7", code_uri=fake.datastore_uri("LocalUpload/ab/src/"))
    fake.add_environment_version("training-gpu", "3", image=IMAGE)
    gateway.submit_job(
        spec(fake.code_version_id("src", "7"), environment=fake.environment_version_id("training-gpu", "3"))
    )
    props = fake.calls_to("jobs.put")[0].body["properties"]
    assert props["codeId"] == fake.code_version_id("src", "7")
    assert props["environmentId"] == fake.environment_version_id("training-gpu", "3")
    assert fake.calls_to("code_versions.put") == [] and fake.calls_to("environment_versions.put") == []


@pytest.mark.parametrize("status", ["Failed", "NotResponding"])
def test_a_failed_job_surfaces_the_runs_error(fake, gateway, code, status):
    with_data(fake)
    fake.plan_job("train-0a1b2c", status, error="CUDA out of memory on rank 1")
    gateway.submit_job(spec(code))
    job = wait(gateway, "train-0a1b2c")
    assert job.status == status and job.terminal and not job.succeeded
    assert job.error == "UserError CUDA out of memory on rank 1"


def test_a_canceled_job_ends_canceled_and_a_second_cancel_writes_nothing(fake, gateway, code):
    with_data(fake)
    fake.auto_advance_jobs = False
    gateway.submit_job(spec(code))
    fake.advance_job("train-0a1b2c", 3)
    canceled = gateway.cancel_job("train-0a1b2c")
    assert canceled.status == "Canceled" and canceled.terminal and canceled.error is None
    writes = len(fake.writes())
    assert gateway.cancel_job("train-0a1b2c").status == "Canceled"
    assert len(fake.writes()) == writes
    with pytest.raises(NotFound, match="cancel_job on job nope"):
        gateway.cancel_job("nope")


def test_a_failed_cancellation_is_final(fake, gateway, code):
    with_data(fake)
    fake.auto_advance_jobs = False
    gateway.submit_job(spec(code))
    fake.fail_lro("jobs.cancel", message="the run did not stop")
    with pytest.raises(AzureMLError) as caught:
        gateway.cancel_job("train-0a1b2c")
    assert caught.value.operation == "cancel_job" and "the run did not stop" in str(caught.value)
    assert caught.value.attempts == 1 and fake.job("train-0a1b2c")["properties"]["status"] == "CancelRequested"


def test_get_job_of_a_missing_job_is_none(gateway):
    assert gateway.get_job("never-submitted") is None


# ---------------------------------------------------------------------- retried submits reuse the job
def test_a_retried_submit_reuses_the_job_without_writing(fake, gateway, code):
    with_data(fake)
    fake.plan_job("train-0a1b2c", "Failed", error="boom")
    gateway.submit_job(spec(code))
    wait(gateway, "train-0a1b2c")
    writes = len(fake.writes())
    again = gateway.submit_job(spec(code))
    assert again.status == "Failed" and again.error == "UserError boom"  # reused, not restarted
    assert len(fake.writes()) == writes and len(fake.calls_to("jobs.put")) == 1


def test_a_lost_submit_answer_is_retried_by_finding_the_job(fake, gateway, code):
    with_data(fake)
    fake.lose_response("jobs.put")
    job = gateway.submit_job(spec(code))
    assert job.name == "train-0a1b2c"
    puts = fake.calls_to("jobs.put")
    assert len(puts) == 1 and puts[0].response_lost
    assert [c.status for c in fake.calls_to("jobs.get")][:2] == [404, 200]


def test_a_job_of_the_same_name_with_another_command_is_refused(fake, gateway, code):
    with_data(fake)
    gateway.submit_job(spec(code))
    with pytest.raises(AzureMLError) as caught:
        gateway.submit_job(spec(code, command="python other.py"))
    assert caught.value.status == 409 and caught.value.operation == "submit_job"
    assert len(fake.calls_to("jobs.put")) == 1


def test_the_service_refusing_a_job_is_one_clear_error(fake, gateway, code):
    with pytest.raises(AzureMLError) as caught:  # the data version was never registered
        gateway.submit_job(spec(code))
    assert caught.value.status == 400 and "tweets" in caught.value.service_message
    assert caught.value.resource == "job train-0a1b2c" and caught.value.attempts == 1
    assert fake.job("train-0a1b2c") is None


# ---------------------------------------------------------------------- faults at each call
@pytest.mark.parametrize(
    "operation", ["jobs.get", "code_versions.put", "environment_versions.put", "jobs.put", "run_history.get_details"]
)
def test_throttling_at_each_submit_call_waits_as_told_and_submits_once(fake, gateway, code, operation):
    with_data(fake)
    fake.fail(operation, 429, retry_after=11)
    job = gateway.submit_job(spec(code))
    assert job.name == "train-0a1b2c" and fake.gateway_sleeps == [11.0]
    assert len([c for c in fake.calls_to("jobs.put") if c.status == 201]) == 1


def test_a_throttled_discovery_is_retried_by_azure_ai_ml_itself(fake, gateway, code):
    """azure-ai-ml fetches the workspace's discovery document through its own retrying pipeline
    (_utils/utils.py: create_requests_pipeline_with_retry, 429 and 5xx), so it costs no gateway attempt."""
    with_data(fake)
    fake.fail("workspaces.discovery", 429, retry_after=2)
    assert gateway.submit_job(spec(code)).name == "train-0a1b2c"
    assert [c.status for c in fake.calls_to("workspaces.discovery")] == [429, 200]
    assert fake.gateway_sleeps == [] and 2.0 in fake.transport.sleeps


@pytest.mark.parametrize("operation", ["jobs.get", "jobs.put", "environment_versions.put", "run_history.get_details"])
def test_server_errors_at_each_submit_call_are_retried_with_backoff(fake, gateway, code, operation):
    with_data(fake)
    fake.fail(operation, 503, times=2)
    assert gateway.submit_job(spec(code)).name == "train-0a1b2c"
    assert fake.gateway_sleeps == [2.0, 4.0] and fake.job("train-0a1b2c") is not None


def test_retries_are_bounded_and_the_error_names_the_call(fake, gateway, code):
    with_data(fake)
    fake.fail("jobs.put", 500, times=None, message="backend down")
    with pytest.raises(AzureMLError) as caught:
        gateway.submit_job(spec(code))
    err = caught.value
    assert (err.operation, err.resource, err.status, err.attempts) == ("submit_job", "job train-0a1b2c", 500, 3)
    assert "backend down" in str(err) and fake.job("train-0a1b2c") is None


@pytest.mark.parametrize("operation", ["jobs.get", "jobs.cancel", "operations.get"])
def test_faults_while_canceling_are_retried(fake, gateway, code, operation):
    with_data(fake)
    fake.auto_advance_jobs = False
    gateway.submit_job(spec(code))
    fake.fail(operation, 429, retry_after=3)
    assert gateway.cancel_job("train-0a1b2c").status == "Canceled"
    assert fake.gateway_sleeps == [3.0]


def test_a_lost_cancel_answer_is_retried(fake, gateway, code):
    with_data(fake)
    fake.auto_advance_jobs = False
    gateway.submit_job(spec(code))
    fake.lose_response("jobs.cancel")
    assert gateway.cancel_job("train-0a1b2c").status == "Canceled"
    assert len(fake.calls_to("jobs.cancel")) == 2


# ---------------------------------------------------------------------- spec checks
@pytest.mark.parametrize(
    "changes, words",
    [
        ({"name": "bad name"}, "JobSpec.name"),
        ({"code": "/nowhere/at/all"}, "JobSpec.code"),
        ({"outputs": ("default",)}, "JobSpec.outputs"),
        ({"instance_count": 0}, "JobSpec.instance_count"),
        ({"inputs": {"data": "azureml:tweets:1"}}, "JobSpec.inputs"),
    ],
)
def test_bad_specs_are_refused_before_any_call(fake, code, changes, words):
    with pytest.raises(ValueError, match=words):
        spec(code, **changes)
    assert fake.calls == []


def test_local_inputs_and_bad_environments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="register the file with register_data_asset first"):
        JobInput(str(tmp_path / "tweets.csv"))
    with pytest.raises(ValueError, match="not both"):
        EnvironmentSpec(image=IMAGE, conda_file=str(tmp_path), pip_requirements=("torch",))
    with pytest.raises(ValueError, match="conda_file"):
        EnvironmentSpec(image=IMAGE, conda_file=str(tmp_path / "missing.yaml"))


# ---------------------------------------------------------------------- data assets
def test_a_local_file_is_uploaded_and_registered_under_its_explicit_version(fake, gateway, tmp_path):
    data = tmp_path / "tweets.csv"
    data.write_text("text,label\nola,0\n")
    asset = gateway.register_data_asset("tweets", "5d41402a", str(data), description="train split", tags={"rows": 1})
    assert asset.type == "uri_file" and asset.version == "5d41402a" and asset.tags == {"rows": "1"}
    assert asset.path.startswith(fake.datastore_uri("LocalUpload/")) and asset.path.endswith("/tweets.csv")
    assert fake.blobs[asset.path.split("/paths/", 1)[1]] == data.read_bytes()
    assert asset.id == fake.data_version_id("tweets", "5d41402a")

    writes = len(fake.writes())
    assert gateway.register_data_asset("tweets", "5d41402a", str(data)) == asset  # same content: reused
    assert len(fake.writes()) == writes


def test_a_data_version_never_changes_its_path(fake, gateway, tmp_path):
    data = tmp_path / "tweets.csv"
    data.write_text("one\n")
    first = gateway.register_data_asset("tweets", "1", str(data))
    data.write_text("two\n")
    with pytest.raises(AzureMLError) as caught:
        gateway.register_data_asset("tweets", "1", str(data))
    assert caught.value.status == 409 and first.path in caught.value.service_message
    assert fake.data_version("tweets", "1")["properties"]["dataUri"] == first.path
    with pytest.raises(ValueError, match="explicit"):
        gateway.register_data_asset("tweets", None, str(data))
    with pytest.raises(ValueError, match="neither a remote URI nor an existing local file"):
        gateway.register_data_asset("tweets", "2", str(tmp_path / "missing.csv"))
    assert gateway.get_data_asset("tweets", "1") == first and gateway.get_data_asset("tweets", "9") is None


@pytest.mark.parametrize("operation", ["data_versions.get", "data_versions.put"])
def test_faults_while_registering_data_are_retried(fake, gateway, operation):
    uri = fake.datastore_uri("LocalUpload/aa/tweets.csv")
    fake.fail(operation, 429, retry_after=5)
    fake.fail(operation, 502)
    assert gateway.register_data_asset("tweets", "1", uri).path == uri
    assert fake.gateway_sleeps == [5.0, 4.0]


def test_a_lost_data_registration_answer_is_retried_by_reading_it(fake, gateway):
    uri = fake.datastore_uri("LocalUpload/aa/tweets.csv")
    fake.lose_response("data_versions.put")
    assert gateway.register_data_asset("tweets", "1", uri).path == uri
    assert len(fake.calls_to("data_versions.put")) == 1


# ---------------------------------------------------------------------- registering the job's output
def test_the_candidate_is_registered_from_the_job_output_with_the_job_as_lineage(fake, gateway, code, tmp_path):
    with_data(fake)
    fake.auto_advance_jobs = False
    job = gateway.submit_job(spec(code))
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "model.int8.onnx").write_bytes(b"int8")
    fake.finish_job(job.name, "Completed", outputs={"artifact": artifact})
    model = gateway.register_model_version(
        "hate-speech-pt", "c0ffee", job.outputs["artifact"], tags={}, properties={"content_sha256": "c0ffee00"}
    )
    assert model.path == "azureml://jobs/train-0a1b2c/outputs/artifact" and model.job_name == "train-0a1b2c"
    assert fake.blob_calls == [
        ("upload", fake.asset_version(fake.code_version_id(job.name, "1"))["properties"]["codeUri"])
    ]  # the code snapshot only: the model itself is not uploaded
    gateway.download_model_version("hate-speech-pt", "c0ffee", tmp_path / "copy")
    assert (tmp_path / "copy" / "model.int8.onnx").read_bytes() == b"int8"
