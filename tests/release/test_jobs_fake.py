"""The Azure ML fake serves jobs, run history and data assets the way the service answers azure-ai-ml 1.35.2.

Each test drives azure-ai-ml's own code (MLClient with the fake's transport) and checks the wire:
operations/_job_operations.py create_or_update PUTs .../jobs/{name} with the 2025-01-01-preview
client, reads with 2024-01-01-preview and cancels with POST .../cancel (2023-04-01-preview, an ARM
long-running operation); a failed run's error comes from run history (_job_ops_helper.py:
stream_logs_until_completion reads RunDetails.error); DataOperations PUTs .../data/{n}/versions/{v}
(2023-04-01-preview).
"""

from __future__ import annotations

import pytest
from azure.ai.ml import Input, MLClient, Output, PyTorchDistribution, command
from azure.ai.ml.entities import Data, Environment, Model
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.fakes.azureml import FakeAzureML

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"


@pytest.fixture
def fake():
    fake = FakeAzureML()
    fake.add_compute("gpu-cluster", max_nodes=2)
    fake.add_code_version("train-src", "1", code_uri=fake.datastore_uri("LocalUpload/abc/src/"))
    fake.add_data_version("tweets", "5d41402a", fake.datastore_uri("LocalUpload/def/tweets.csv"))
    return fake


@pytest.fixture
def ml(fake):
    return MLClient(
        fake.credential,
        fake.subscription_id,
        fake.resource_group,
        fake.workspace_name,
        transport=fake.transport,
        retry_total=0,
    )


def training_job(
    fake,
    name="train-1",
    compute="gpu-cluster",
    instances=2,
    data="azureml:tweets:5d41402a",
    command_line="python -m model train --data ${{inputs.data}} --out ${{outputs.artifact}}",
):
    return command(
        name=name,
        command=command_line,
        code=fake.code_version_id("train-src", "1"),
        environment=Environment(image=IMAGE, conda_file={"dependencies": ["python=3.11"]}),
        compute=compute,
        inputs={"data": Input(type="uri_file", path=data)},
        outputs={"artifact": Output(type="uri_folder")},
        instance_count=instances,
        distribution=PyTorchDistribution(process_count_per_instance=2),
        experiment_name="hate-speech",
    )


def test_a_command_job_is_put_with_the_real_paths_and_api_versions(fake, ml):
    created = ml.jobs.create_or_update(training_job(fake))
    assert created.name == "train-1" and created.status == "NotStarted"
    env_put, job_put = fake.calls_to("environment_versions.put")[0], fake.calls_to("jobs.put")[0]
    assert "/environments/CliV2AnonymousEnvironment/versions/" in env_put.path
    assert env_put.api_version == "2023-04-01-preview"
    assert job_put.path == f"{fake.workspace_id}/jobs/train-1" and job_put.api_version == "2025-01-01-preview"
    props = job_put.body["properties"]
    assert props["jobType"] == "Command" and props["resources"]["instanceCount"] == 2
    assert props["distribution"] == {"distributionType": "PyTorch", "processCountPerInstance": 2}
    assert props["inputs"]["data"]["uri"] == fake.data_version_id("tweets", "5d41402a")
    assert props["environmentId"] == env_put.path  # the anonymous version it just created

    got = ml.jobs.get("train-1")
    assert fake.calls_to("jobs.get")[0].api_version == "2024-01-01-preview"
    assert set(got.outputs) == {"artifact", "default"}
    assert got.services["Studio"].endpoint.startswith("https://ml.azure.com/runs/train-1")


def test_a_job_moves_one_status_per_request_and_ends_as_planned(fake, ml):
    fake.plan_job("train-1", "Failed", error="CUDA out of memory on rank 1")
    ml.jobs.create_or_update(training_job(fake))
    seen = [ml.jobs.get("train-1").status for _ in range(5)]
    assert seen == ["Queued", "Preparing", "Running", "Failed", "Failed"]
    details = ml.jobs._runs_operations.get_run_details("train-1")
    assert details.status == "Failed" and details.error.error.message == "CUDA out of memory on rank 1"
    assert details.start_time_utc < details.end_time_utc
    history = fake.calls_to("run_history.get_details")[0]
    assert history.api_version == "v1.0"
    assert history.path == f"/history/v1.0{fake.workspace_id}/runs/train-1/details"
    assert fake.calls_to("workspaces.discovery"), "the run-history host comes from the workspace's discoveryUrl"


def test_jobs_can_be_held_and_finished_by_the_test(fake, ml, tmp_path):
    fake.auto_advance_jobs = False
    ml.jobs.create_or_update(training_job(fake))
    assert [ml.jobs.get("train-1").status for _ in range(3)] == ["NotStarted"] * 3
    assert fake.advance_job("train-1", 3) == "Running"
    (tmp_path / "artifact").mkdir()
    (tmp_path / "artifact" / "model.onnx").write_bytes(b"onnx")
    fake.finish_job("train-1", "Completed", outputs={"artifact": tmp_path / "artifact"})
    assert ml.jobs.get("train-1").status == "Completed"
    fake.download_folder(fake.job_output_uri("train-1", "artifact"), tmp_path / "copy")
    assert (tmp_path / "copy" / "model.onnx").read_bytes() == b"onnx"
    with pytest.raises(ValueError, match="has ended already"):
        fake.finish_job("train-1", "Failed")
    with pytest.raises(KeyError, match="declares no output 'logs'"):
        fake.finish_job("train-1", "Completed", outputs={"logs": tmp_path})


def test_cancel_is_an_arm_operation_that_ends_the_job_canceled(fake, ml):
    fake.auto_advance_jobs = False
    ml.jobs.create_or_update(training_job(fake))
    fake.advance_job("train-1", 3)
    ml.jobs.begin_cancel("train-1").result()
    cancel = fake.calls_to("jobs.cancel")[0]
    assert cancel.method == "POST" and cancel.path.endswith("/jobs/train-1/cancel")
    assert cancel.api_version == "2023-04-01-preview" and cancel.status == 202
    assert ml.jobs.get("train-1").status == "Canceled"
    assert ml.jobs._runs_operations.get_run_details("train-1").end_time_utc is not None


def test_a_failed_cancel_leaves_the_job_cancel_requested(fake, ml):
    fake.auto_advance_jobs = False
    ml.jobs.create_or_update(training_job(fake))
    fake.fail_lro("jobs.cancel", message="the run did not stop")
    with pytest.raises(HttpResponseError):
        ml.jobs.begin_cancel("train-1").result()
    assert ml.jobs.get("train-1").status == "CancelRequested"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"compute": "cpu-cluster"}, "Compute"),
        ({"instances": 3}, "asks for 3 nodes"),
        ({"data": "azureml:tweets:nope"}, "data asset"),
    ],
)
def test_a_job_naming_what_does_not_exist_is_refused_and_nothing_is_stored(fake, ml, change, words):
    with pytest.raises(HttpResponseError) as caught:
        ml.jobs.create_or_update(training_job(fake, **change))
    assert caught.value.status_code == 400 and words in caught.value.error.message
    assert fake.job("train-1") is None
    with pytest.raises(ResourceNotFoundError):
        ml.jobs.get("train-1")


def test_an_existing_job_keeps_its_definition(fake, ml):
    ml.jobs.create_or_update(training_job(fake))
    with pytest.raises(HttpResponseError) as caught:
        ml.jobs.create_or_update(training_job(fake, command_line="python other.py"))
    assert caught.value.status_code == 409 and "command cannot be changed" in caught.value.error.message
    again = ml.jobs.create_or_update(training_job(fake))  # the same definition is accepted
    assert again.name == "train-1" and fake.calls_to("jobs.put")[-1].status == 200


def test_a_model_registered_from_a_job_output_records_the_job_as_lineage(fake, ml):
    ml.jobs.create_or_update(training_job(fake))
    ml.models.create_or_update(
        Model(name="hs", version="1", path=fake.job_output_uri("train-1", "artifact"), type="custom_model")
    )
    assert fake.model_version("hs", "1")["properties"]["jobName"] == "train-1"
    with pytest.raises(HttpResponseError) as caught:
        ml.models.create_or_update(
            Model(name="hs", version="2", path=fake.job_output_uri("train-9", "artifact"), type="custom_model")
        )
    assert caught.value.status_code == 400 and fake.model_version("hs", "2") is None


def test_data_versions_are_put_with_their_real_path_and_keep_their_path(fake, ml):
    uri = fake.datastore_uri("LocalUpload/0a1b/tweets.csv")
    ml.data.create_or_update(Data(name="tweets", version="9f86d081", path=uri, type="uri_file", tags={"rows": "10"}))
    put = fake.calls_to("data_versions.put")[0]
    assert put.path == f"{fake.workspace_id}/data/tweets/versions/9f86d081" and put.api_version == "2023-04-01-preview"
    assert put.body["properties"]["dataType"] == "uri_file"
    got = ml.data.get("tweets", version="9f86d081")
    assert got.path == uri and got.type == "uri_file" and got.tags == {"rows": "10"}
    with pytest.raises(HttpResponseError) as caught:
        ml.data.create_or_update(
            Data(
                name="tweets",
                version="9f86d081",
                type="uri_file",
                path=fake.datastore_uri("LocalUpload/ffff/tweets.csv"),
            )
        )
    assert caught.value.status_code == 400 and "Asset paths cannot be updated" in caught.value.error.message
    assert fake.data_version("tweets", "9f86d081")["properties"]["dataUri"] == uri


def test_faults_apply_to_the_new_operations(fake, ml):
    fake.fail("jobs.put", 429, retry_after=7)
    with pytest.raises(HttpResponseError) as caught:
        ml.jobs.create_or_update(training_job(fake))
    assert caught.value.status_code == 429 and caught.value.response.headers["Retry-After"] == "7"
    assert fake.job("train-1") is None
    fake.lose_response("jobs.put")
    with pytest.raises(Exception):
        ml.jobs.create_or_update(training_job(fake))
    assert fake.job("train-1") is not None  # applied, answer lost
    with pytest.raises(ValueError, match="unknown operation"):
        fake.fail("jobs.submit", 500)
