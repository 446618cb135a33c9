"""The model-free parts of serving/: settings, artifact discovery, request checks, OpenAPI files, environment."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from infra.release.content import content_sha256, version_of
from scripts import openapi_document
from scripts.local_server import azure_ml_mount, served_model_dir
from serving.artifact_location import ArtifactNotFound, find_artifact_dir, model_version
from serving.scoring_request import RequestError, body_byte_limit, check_body_bytes, check_content_type, parse_texts
from serving.scoring_settings import ScoringSettings, SettingsError
from tests.paths import REPO_ROOT
from tests.serving.conftest import SERVING_DIR, SERVING_PYTHON

LIMITS = dict(max_texts=3, max_text_chars=10, max_body_chars=200)


# settings ------------------------------------------------------------------------------------------------


def test_settings_default_without_variables():
    assert ScoringSettings.from_env({}) == ScoringSettings()
    assert ScoringSettings().precision == "int8"


def test_settings_read_every_variable():
    settings = ScoringSettings.from_env(
        {
            "SCORING_PRECISION": "fp32",
            "SCORING_INTRA_OP_THREADS": "2",
            "SCORING_INTER_OP_THREADS": "1",
            "SCORING_MAX_TEXTS": "8",
            "SCORING_MAX_TEXT_CHARS": "300",
            "SCORING_MAX_BODY_CHARS": "5000",
            "SCORING_MODEL_VERSION": " 4 ",
            "SCORING_READ_TIMEOUT_SECONDS": "9",
            "SCORING_THREADS_PER_WORKER": "6",
        }
    )
    assert settings == ScoringSettings(
        precision="fp32",
        intra_op_threads=2,
        inter_op_threads=1,
        max_texts=8,
        max_text_chars=300,
        max_body_chars=5000,
        model_version="4",
        read_timeout_seconds=9,
        threads_per_worker=6,
    )


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SCORING_PRECISION": "fp16"}, "SCORING_PRECISION is 'fp16'; accepted: one of ['int8', 'fp32']"),
        ({"SCORING_MAX_TEXTS": "ten"}, "SCORING_MAX_TEXTS is 'ten'; accepted: an integer from 1 to 10000"),
        ({"SCORING_MAX_TEXTS": "0"}, "SCORING_MAX_TEXTS is 0; accepted: an integer from 1 to 10000"),
        ({"SCORING_INTRA_OP_THREADS": "-1"}, "SCORING_INTRA_OP_THREADS is -1"),
        ({"SCORING_MAX_TEXT_CHARS": "500", "SCORING_MAX_BODY_CHARS": "400"}, "SCORING_MAX_BODY_CHARS (400) is below"),
        (
            {"SCORING_READ_TIMEOUT_SECONDS": "0"},
            "SCORING_READ_TIMEOUT_SECONDS is 0; accepted: an integer from 1 to 300",
        ),
        ({"SCORING_READ_TIMEOUT_SECONDS": "2.5"}, "SCORING_READ_TIMEOUT_SECONDS is '2.5'; accepted: an integer"),
        ({"SCORING_THREADS_PER_WORKER": "65"}, "SCORING_THREADS_PER_WORKER is 65; accepted: an integer from 1 to 64"),
    ],
)
def test_bad_settings_name_the_variable(environ, message):
    with pytest.raises(SettingsError) as raised:
        ScoringSettings.from_env(environ)
    assert message in str(raised.value)


# artifact discovery ----------------------------------------------------------------------------------------


def _artifact(folder):
    folder.mkdir(parents=True)
    (folder / "artifact.json").write_text("{}")
    return folder


def test_artifact_folder_given_directly(tmp_path):
    assert find_artifact_dir(_artifact(tmp_path / "model")) == tmp_path / "model"


def test_artifact_folder_below_the_azure_ml_mount(tmp_path):
    version_dir = tmp_path / "azureml-models" / "hate-speech-pt" / "7"
    found = _artifact(version_dir / "outputs" / "artifact")
    (version_dir / "README").mkdir()
    assert find_artifact_dir(version_dir) == found
    assert model_version(version_dir, {}) == "7"


def test_artifact_search_stops_at_the_depth_limit(tmp_path):
    _artifact(tmp_path / "a" / "b" / "c" / "d")
    with pytest.raises(ArtifactNotFound, match="no artifact.json"):
        find_artifact_dir(tmp_path)


def test_missing_model_root_is_named(tmp_path):
    with pytest.raises(ArtifactNotFound, match="does not exist"):
        find_artifact_dir(tmp_path / "nowhere")


def test_artifact_folder_reached_through_a_symbolic_link(tmp_path):
    """scripts/local_server.py mounts a folder as a link; os.walk does not follow links unless told."""
    found = _artifact(tmp_path / "trained")
    version_dir = tmp_path / "azureml-models" / "m" / "3"
    version_dir.mkdir(parents=True)
    (version_dir / "trained").symlink_to(found, target_is_directory=True)
    assert find_artifact_dir(version_dir) == version_dir / "trained"


def test_local_server_mounts_a_folder_as_azure_ml_does(tmp_path):
    """AZUREML_MODEL_DIR=<root>/azureml-models/<name>/<version>, the registered folder under its own name in it;
    the version defaults to the content version `up` registers the folder under (infra/release/content.py)."""
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "artifact.json").write_text(json.dumps({"name": "hate-speech-pt", "labels": ["no-hate", "hate"]}))
    mounted = served_model_dir(artifact, tmp_path / "mount")
    version = version_of(content_sha256(str(artifact)))
    assert mounted == tmp_path / "mount" / "azureml-models" / "hate-speech-pt" / version
    assert find_artifact_dir(mounted).resolve() == artifact
    assert model_version(mounted, {}) == version
    assert served_model_dir(artifact, tmp_path / "other", version="5").name == "5"


def test_local_server_passes_other_folders_as_they_are(tmp_path):
    assert served_model_dir(tmp_path, tmp_path / "mount") == tmp_path
    with pytest.raises(ValueError, match="holds no artifact.json"):
        served_model_dir(tmp_path, tmp_path / "mount", version="5")


@pytest.mark.parametrize(
    "artifact_json, version, message",
    [
        ("{}", "5", "no model name"),
        ("[1]", "5", "no model name"),
        ("{not json", "5", "no model name"),
        ('{"name": "m"}', "a/b", "accepted: a model version, one folder name"),
        ('{"name": "m"}', "", "accepted: a model version, one folder name"),
    ],
)
def test_local_mount_refuses_what_it_cannot_lay_out(tmp_path, artifact_json, version, message):
    (tmp_path / "artifact").mkdir()
    (tmp_path / "artifact" / "artifact.json").write_text(artifact_json)
    with pytest.raises(ValueError, match=message):
        azure_ml_mount(tmp_path / "artifact", tmp_path / "mount", version)


def test_version_prefers_setting_then_artifact_then_folder(tmp_path):
    mount = tmp_path / "azureml-models" / "m" / "9"
    assert model_version(mount, {"version": "v2"}, explicit="v3") == "v3"
    assert model_version(mount, {"version": "v2"}) == "v2"
    assert model_version(mount, {}) == "9"
    assert model_version(tmp_path / "elsewhere", {}) == "unregistered"


# request checks not reachable through the inference server -----------------------------------------------


def test_bytes_body_is_decoded():
    assert parse_texts(b'{"texts": ["ol\xc3\xa1"]}', **LIMITS) == ["olá"]


def test_bytes_body_that_is_not_utf8_is_refused():
    with pytest.raises(RequestError) as raised:
        parse_texts(b'{"texts": ["\xff"]}', **LIMITS)
    assert raised.value.status == 400 and "not UTF-8" in raised.value.message


@pytest.mark.parametrize("raw", [None, 5, ["texts"]])
def test_body_of_another_type_is_refused(raw):
    with pytest.raises(RequestError) as raised:
        parse_texts(raw, **LIMITS)
    assert raised.value.status == 400 and "accepted: UTF-8 JSON text" in raised.value.message


def test_body_byte_limit_is_four_bytes_per_character():
    assert body_byte_limit(200) == 800
    check_body_bytes(800, 200)
    with pytest.raises(RequestError) as raised:
        check_body_bytes(801, 200)
    assert (raised.value.status, raised.value.field) == (413, None)
    assert "is 801 bytes; accepted: at most 800 bytes (200 characters)" in raised.value.message


def test_limits_come_from_the_arguments():
    assert parse_texts('{"texts": ["0123456789", "a", "b"]}', **LIMITS) == ["0123456789", "a", "b"]
    for body, status, message in [
        ('{"texts": ["a", "b", "c", "d"]}', 400, "at most 3"),
        ('{"texts": ["0123456789x"]}', 400, "at most 10 characters"),
        (json.dumps({"texts": ["a"] * 60}), 413, "at most 200 characters"),
        (
            json.dumps({"texts": ["a"] * 200}).encode(),
            413,
            "is 1011 bytes; accepted: at most 800 bytes (200 characters)",
        ),
    ]:
        with pytest.raises(RequestError) as raised:
            parse_texts(body, **LIMITS)
        assert (raised.value.status, message in raised.value.message) == (status, True)


def test_content_type_checks():
    for accepted in (None, "", "application/json", "Application/JSON; charset=utf-8", "application/vnd.x+json"):
        check_content_type(accepted)
    with pytest.raises(RequestError) as raised:
        check_content_type("text/csv")
    assert raised.value.status == 415 and raised.value.field == "Content-Type"


# OpenAPI files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version, name", sorted(openapi_document.FILES.items()))
def test_committed_openapi_files_are_up_to_date(version, name):
    committed = json.loads((SERVING_DIR / name).read_text(encoding="utf-8"))
    assert committed == openapi_document.build(version), "run: python -m scripts.openapi_document"


def test_openapi_example_request_is_accepted_and_limits_match_the_settings():
    document = openapi_document.build("3")
    request = document["components"]["schemas"]["ScoreRequest"]
    limits = ScoringSettings()
    assert parse_texts(
        json.dumps(request["example"]),
        max_texts=limits.max_texts,
        max_text_chars=limits.max_text_chars,
        max_body_chars=limits.max_body_chars,
    )
    assert request["properties"]["texts"]["maxItems"] == limits.max_texts
    assert request["properties"]["texts"]["items"]["maxLength"] == limits.max_text_chars
    assert document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScoreRequest"
    }
    assert set(document["paths"]["/score"]["post"]["responses"]) == {"200", "400", "408", "413", "415", "503"}


def _accepts_null(version: str, schema: dict) -> bool:
    """Whether an OpenAPI `version` document's property schema allows null, by that version's rule."""
    if version == "2":
        return schema.get("x-nullable") is True  # Swagger 2.0 has no null type; the common extension
    if version == "3":
        return schema.get("nullable") is True
    return "null" in schema["type"]  # 3.1: JSON Schema type list


@pytest.mark.parametrize("version", sorted(openapi_document.FILES))
def test_openapi_error_field_is_a_string_or_null_as_the_bodies_are(version):
    """Body-level errors answer {"field": null} (run() for invalid JSON, request_guard for 405/408/413),
    field-level ones a string: the documented ErrorResponse must allow both."""
    document = openapi_document.build(version)
    schemas = document["definitions"] if version == "2" else document["components"]["schemas"]
    field = schemas["ErrorResponse"]["properties"]["field"]
    assert _accepts_null(version, field)
    assert "string" in ([field["type"]] if isinstance(field["type"], str) else field["type"])
    assert schemas["ErrorResponse"]["required"] == ["message"]  # azmlinfsrv's own errors carry only a message
    with pytest.raises(RequestError) as raised:
        parse_texts("{", **LIMITS)
    assert raised.value.body()["field"] is None


def test_openapi_references_resolve():
    for version in openapi_document.FILES:
        document = openapi_document.build(version)
        text = json.dumps(document)
        for reference in re.findall(r'"\$ref": "#/([^"]+)"', text):
            node = document
            for part in reference.split("/"):
                node = node[part]
            assert isinstance(node, dict)


def test_openapi_version_is_checked():
    with pytest.raises(ValueError, match="version is '4'"):
        openapi_document.build("4")


# environment ---------------------------------------------------------------------------------------------


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_conda_file_pins_the_same_packages_as_the_requirements():
    environment = SERVING_DIR / "environment"
    requirements = _pins((environment / "requirements.txt").read_text().splitlines())
    conda = yaml.safe_load((environment / "conda.yaml").read_text())
    pip_section = next(item["pip"] for item in conda["dependencies"] if isinstance(item, dict))
    assert _pins(pip_section) == requirements
    assert "python=3.11" in conda["dependencies"]
    assert set(requirements) == {"azureml-inference-server-http", "gunicorn", "onnxruntime", "tokenizers", "numpy"}


def test_environment_definition_points_at_the_conda_file_and_a_python_311_inference_image():
    definition = yaml.safe_load((SERVING_DIR / "environment" / "environment.yaml").read_text())
    assert (SERVING_DIR / "environment" / definition["conda_file"]).is_file()
    assert definition["image"].startswith("mcr.microsoft.com/azureml/curated/minimal-py311-inference:")


def test_requirements_file_for_venv_serving_uses_the_image_pins():
    assert "-r ../serving/environment/requirements.txt" in (REPO_ROOT / "requirements" / "serving.txt").read_text()


def test_venv_serving_has_the_pinned_versions():
    if not SERVING_PYTHON.exists():
        pytest.fail(f"{SERVING_PYTHON} is missing: create venv-serving from requirements/serving.txt")
    pins = _pins((SERVING_DIR / "environment" / "requirements.txt").read_text().splitlines())
    script = "import json, sys, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    installed = json.loads(
        subprocess.run([str(SERVING_PYTHON), "-c", script, *pins], check=True, capture_output=True, text=True).stdout
    )
    assert installed == pins


def test_classifier_imports_without_torch_or_transformers():
    script = (
        "import sys; sys.path.insert(0, 'serving'); import classifier; "
        "bad = {'torch', 'transformers'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([str(SERVING_PYTHON), "-c", script], check=True, cwd=REPO_ROOT)
