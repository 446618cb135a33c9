"""./scripts/setup installs Debian's chromium when it is missing (the HTML audit report's browser test
needs it), and carries on with a clear line when it cannot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

SETUP = REPO_ROOT / "scripts" / "setup"


def run_install_chromium(tmp_path: Path, apt_status: int, have_chromium: bool = False, uid: int = 0):
    """The setup's install_chromium function alone, with a PATH holding only a stand-in apt-get (and a
    chromium when `have_chromium`) and an `id` that reports `uid`."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "apt-calls"
    bin_dir.mkdir()
    for tool in ("env", "cat", "sed"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    scripts = {"apt-get": f'echo "$DEBIAN_FRONTEND apt-get $*" >> {calls}; exit {apt_status}', "id": f"echo {uid}"}
    if have_chromium:
        scripts["chromium"] = "exit 0"
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    function = subprocess.run(
        ["sed", "-n", "/^install_chromium() {/,/^}/p", str(SETUP)], capture_output=True, text=True, check=True
    ).stdout
    assert function, "scripts/setup defines install_chromium"
    completed = subprocess.run(
        [shutil.which("bash"), "-euo", "pipefail", "-c", function + "\ninstall_chromium"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return completed, calls.read_text().splitlines() if calls.exists() else []


def test_setup_installs_chromium_when_it_is_missing(tmp_path):
    completed, calls = run_install_chromium(tmp_path, apt_status=0)
    assert completed.returncode == 0, completed.stderr
    assert calls == [" apt-get update -q", "noninteractive apt-get install -y -q chromium"]


def test_setup_leaves_an_installed_chromium_alone(tmp_path):
    completed, calls = run_install_chromium(tmp_path, apt_status=0, have_chromium=True)
    assert completed.returncode == 0 and calls == [] and completed.stdout == ""


@pytest.mark.parametrize(
    "apt_status, uid, line",
    [
        (100, 0, "chromium could not be installed: the audit report's browser test will be skipped"),
        (
            0,
            1000,
            "chromium is missing and cannot be installed without root: the audit report's browser test will be skipped",
        ),
    ],
)
def test_setup_carries_on_when_chromium_cannot_be_installed(tmp_path, apt_status, uid, line):
    completed, _ = run_install_chromium(tmp_path, apt_status=apt_status, uid=uid)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == line
