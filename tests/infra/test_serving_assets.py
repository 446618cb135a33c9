"""The serving code and environment as Azure ML assets: exactly what the scoring runtime uses is
uploaded, its content is its version, and no asset version a slot may run is deleted by a stack."""

import ast
import shutil
from pathlib import Path

import pytest

from infra.serving_assets import SCORING_FILES, SERVING_DIR, ServingSource
from tests.infra.conftest import STACKS

ML = "azure-native:machinelearningservices"
# What the inference server loads: the scoring script, and the gunicorn settings module the deployment
# names in GUNICORN_CMD_ARGS (serving/gunicorn_config.py).
ENTRY_POINTS = ("score.py", "gunicorn_config.py")
PACKAGE = SERVING_DIR.name


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every module an `import` names, anywhere in the file (function-level imports too), as
    dotted names; a relative import is resolved against the serving package."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{PACKAGE}.{base}" if base else PACKAGE
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from serving import classifier`
    return names


def _local_file(module: str, serving_dir: Path) -> str | None:
    """The file under serving/ a module name resolves to: score.py's folder is on sys.path in the
    deployment, so `classifier` is serving/classifier.py, as is `serving.classifier`."""
    parts = module.split(".")
    if parts[0] == PACKAGE:
        parts = parts[1:]
    if len(parts) != 1:
        return None
    path = serving_dir / f"{parts[0]}.py"
    return path.name if path.is_file() else None


def scoring_runtime(serving_dir: Path = SERVING_DIR) -> set[str]:
    """The entry points, the serving modules they import (recursively) and the OpenAPI documents beside them."""
    found, pending = set(), list(ENTRY_POINTS)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        tree = ast.parse((serving_dir / name).read_text(encoding="utf-8"), filename=name)
        pending.extend(f for m in _imported_modules(tree) if (f := _local_file(m, serving_dir)))
    return found | {path.name for path in serving_dir.glob("swagger*.json")}


def test_scoring_files_are_exactly_the_entry_points_what_they_import_and_the_openapi_documents():
    runtime = scoring_runtime()
    assert {"score.py", "classifier.py", "swagger.json"} <= runtime, "the resolver finds the entry script's imports"
    assert {"gunicorn_config.py", "request_guard.py", "read_deadline_worker.py"} <= runtime, "and the server's"
    assert len(SCORING_FILES) == len(set(SCORING_FILES))
    assert set(SCORING_FILES) == runtime
    assert [name for name, _ in ServingSource.read().code_files] == sorted(SCORING_FILES)


def test_no_development_tool_lives_in_serving():
    """Every module in serving/ is one the scoring runtime imports; the local inference server and
    the OpenAPI generator are development tools and live in scripts/."""
    modules = {path.name for path in SERVING_DIR.glob("*.py")} - {"__init__.py"}
    assert modules == {name for name in SCORING_FILES if name.endswith(".py")}
    assert "__init__.py" not in scoring_runtime()


@pytest.fixture
def serving_copy(tmp_path):
    copy = tmp_path / "serving"
    shutil.copytree(SERVING_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_files_beside_the_scoring_runtime_change_no_version(serving_copy):
    original = ServingSource.read(serving_copy)
    _append(serving_copy / "__init__.py", "\n# changed\n")
    (serving_copy / "notes.py").write_text("# a file the scoring runtime does not import\n", encoding="utf-8")
    assert ServingSource.read(serving_copy) == original


@pytest.mark.parametrize("name", SCORING_FILES)
def test_editing_a_scoring_file_makes_a_new_code_version_only(serving_copy, name):
    original = ServingSource.read(serving_copy)
    assert original == ServingSource.read(serving_copy)
    _append(serving_copy / name, "\n")
    changed = ServingSource.read(serving_copy)
    assert changed.code_version != original.code_version
    assert changed.environment_version == original.environment_version


def test_a_missing_scoring_file_is_named(serving_copy):
    (serving_copy / "classifier.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing scoring files classifier\.py; accepted: a serving folder"):
        ServingSource.read(serving_copy)


@pytest.mark.parametrize("stack", STACKS)
def test_asset_versions_are_dynamic_and_no_code_blob_is_declared(plans, stack):
    """The code and environment versions are AssetVersions, which never delete
    (tests/release/test_asset_version_provider.py), not azure-native resources, whose create refuses a
    version that a revert declares again. No azure-native storage Blob carries the code: its create
    authenticates with the account's shared key (pulumi-azure-native custom_storage_blob.go,
    newAccountAuthorizer: listKeys), which the stacks turn off; the AssetVersion uploads the files with
    the deploying identity instead."""
    plan = plans[stack]
    assert not plan.of_type(f"{ML}:CodeVersion") and not plan.of_type(f"{ML}:EnvironmentVersion")
    assert not plan.of_type("azure-native:storage:Blob")
    code = plan.one("pulumi-python:dynamic/release:AssetVersion", "hatespeech-serving-code")
    assert sorted(code.inputs["code_files"]) == sorted(SCORING_FILES)
