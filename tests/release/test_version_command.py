"""`python -m infra.release.version PATH`: the version CI prints and approves is the one the provider registers."""
import subprocess
import sys

from infra.release.content import content_sha256, version_of
from infra.release.version import main
from tests.paths import REPO_ROOT


def artifact(folder):
    folder.mkdir()
    (folder / "artifact.json").write_text('{"name": "hate-speech-pt"}')
    (folder / "model.int8.onnx").write_bytes(b"int8 bytes")
    return folder


def test_prints_the_content_version_of_an_artifact_folder(tmp_path, capsys):
    folder = artifact(tmp_path / "model")
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out == version_of(content_sha256(str(folder))) + "\n"
    (folder / "model.int8.onnx").write_bytes(b"other bytes")
    assert main([str(folder)]) == 0
    assert capsys.readouterr().out.strip() == version_of(content_sha256(str(folder))), "new content, new version"


def test_an_azureml_path_gets_the_version_of_its_text(capsys):
    path = "azureml://subscriptions/s/resourcegroups/r/workspaces/w/datastores/workspaceblobstore/paths/model/"
    assert main([path]) == 0
    assert capsys.readouterr().out.strip() == version_of(content_sha256(path))


def test_a_folder_without_an_artifact_is_refused_by_name(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (f"error: {tmp_path} holds no artifact.json; accepted: a model artifact folder "
                                               "holding artifact.json (as `python -m model train` writes it), or an azureml:// path")
    assert main([]) == 2 and "usage:" in capsys.readouterr().err


def test_runs_as_a_module_without_warnings(tmp_path):
    folder = artifact(tmp_path / "model")
    result = subprocess.run([sys.executable, "-m", "infra.release.version", str(folder)], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == version_of(content_sha256(str(folder)))
