import copy
import json

import pytest

from infra.release.content import content_sha256, version_of
from model.synthetic import write_synthetic_csv
from scripts.offline.stack import run_stack, stack_config

STACKS = ("dev", "test", "prod")  # the environment stacks
REGISTRY_STACK = "registry"  # the stack of the estate's Azure ML registry (kind: registry)
REGISTRY_REFERENCE = "organization/mlops-platform/registry"  # how test and prod name it
P = "mlops-platform:"


@pytest.fixture(scope="session")
def plans():
    """Each environment stack's real program, run once under the mock runtime with its real YAML config."""
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(scope="session")
def registry_plan():
    """The registry stack's real program, run once under the mock runtime with its real YAML config."""
    return run_stack(REGISTRY_STACK)


@pytest.fixture
def config_of():
    """A deep copy of a stack's YAML config to break in a test."""
    return lambda stack: copy.deepcopy(stack_config(stack))


@pytest.fixture(scope="session")
def candidate(tmp_path_factory):
    """A folder shaped like `python -m model train` output, as far as registration reads it."""
    folder = tmp_path_factory.mktemp("candidate")
    (folder / "artifact.json").write_text(json.dumps({"name": "hate-speech-pt", "commit": "c0ffee"}), encoding="utf-8")
    (folder / "model.int8.onnx").write_bytes(b"int8 weights")
    evaluation = folder.parent / "evaluation.csv"
    write_synthetic_csv(evaluation, n_rows=40, seed=3)
    return {"path": str(folder), "evaluation": str(evaluation), "version": version_of(content_sha256(str(folder)))}


def with_candidate(config, candidate, index=0):
    release = config[f"{P}workspaces"][index]["release"]
    release.update(candidate=candidate["path"], evaluationData=candidate["evaluation"])
    return config


@pytest.fixture(scope="session")
def released_plans(candidate):
    """Each stack's plan with a release candidate set: the only plans that declare what the slots run."""
    return {
        stack: run_stack(stack, config=with_candidate(copy.deepcopy(stack_config(stack)), candidate))
        for stack in STACKS
    }
