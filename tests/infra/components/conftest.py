"""Each infra/ component built from its Args alone, under the offline engine's mock runtime."""

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from scripts.offline.program import Plan, run_program

TAGS = {"environment": "unit", "owner": "tests"}


@pytest.fixture
def declare() -> Callable[[Callable[[], Mapping[str, Any] | None]], Plan]:
    """Run `build` as a one-component program (no stack settings, no config) and return its plan."""

    def run(build):
        return run_program("unit", lambda: build() or {}, config={})

    return run
