import copy

import pytest

from infra.mock_engine import run_stack, stack_config

STACKS = ("dev", "test", "prod")


@pytest.fixture(scope="session")
def plans():
    """Each stack's real program, run once under the mock runtime with its real YAML config."""
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture
def config_of():
    """A deep copy of a stack's YAML config to break in a test."""
    return lambda stack: copy.deepcopy(stack_config(stack))
