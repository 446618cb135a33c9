"""infra/ is product infrastructure: each of its modules imports on its own, and none of them needs
the offline engine or any other tool under scripts/ (DESIGN decision 4: the engine is development
tooling, used by scripts/plan, the benchmarks and the tests), nor stacks/: data flows one way,
settings become each component's Args in stacks/, so no component reads the stack settings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

INFRA_DIR = REPO_ROOT / "infra"
TOOLING = "scripts"
# The layers above infra/: importing one would make the one-way flow a cycle.
UPSTREAM = (TOOLING, "stacks")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(INFRA_DIR.rglob("*.py"))}


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module an import statement names, anywhere in the source (function-level imports too),
    as absolute dotted names; `from a import b` counts as `a` and `a.b`, relative imports are resolved."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_tooling(name: str) -> bool:
    return name.split(".")[0] == TOOLING


def is_upstream(name: str) -> bool:
    return name.split(".")[0] in UPSTREAM


def test_the_import_walk_finds_every_way_of_naming_the_engine():
    source = (
        "import scripts.offline\n"
        "from scripts import offline\n"
        "def later():\n    from scripts.offline.stack import run_stack\n"
        "from .values import x\n"
    )
    names = imported_modules(source, "infra.release.example", is_package=False)
    assert {"scripts.offline", "scripts", "scripts.offline.stack", "infra.release.values"} <= names
    assert "infra.release.values.x" in names and not is_tooling("infra.release.values")
    assert is_upstream("stacks.settings") and is_upstream("scripts") and not is_upstream("infra.facts")
    assert imported_modules("from . import gateway\n", "infra.azureml", is_package=True) >= {"infra.azureml.gateway"}


def test_no_infra_module_imports_tooling_or_the_stacks():
    assert len(MODULES) > 20 and "infra.release.model_release" in MODULES, "the walk covers infra/ and its packages"
    offenders = {}
    for module, path in MODULES.items():
        names = imported_modules(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
        if upstream := sorted(name for name in names if is_upstream(name)):
            offenders[module] = upstream
    assert offenders == {}


@pytest.mark.parametrize("module", MODULES)
def test_each_infra_module_imports_alone_in_a_fresh_interpreter_without_the_layers_above(module):
    code = (
        f"import sys\nimport {module}\n"
        f"print(','.join(sorted(name for name in sys.modules if name.split('.')[0] in {UPSTREAM!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"import {module} alone failed:\n{result.stderr[-3000:]}"
    assert result.stdout.strip() == "", f"import {module} loaded {result.stdout.strip()}"
