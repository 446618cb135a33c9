"""Policy tests run in the policy environment: venv-policy/bin/python -m pytest policy/tests"""

import copy

import pytest

from harness import SECURE_RESOURCES


@pytest.fixture
def secure():
    """Each platform resource with secure inputs, in the wire shape the SDK sends (captured from
    pulumi-azure-native 3.29 under set_mocks: camelCase, nested args flattened, SDK defaults filled)."""
    return copy.deepcopy(SECURE_RESOURCES)
