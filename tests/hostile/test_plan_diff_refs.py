"""Hostile `--diff` values given to the offline plan, in a git copy of the project: each is refused as a
ref that names no commit, with exit 2 and one `error:` line, and nothing in the project is written
(`--diff=--output=README.md` used to reach git archive as its --output option and truncate README.md)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

import scripts.plan.__main__ as plan
from scripts.offline import PROJECT_DIR
from tests.hostile.bounded_cli import one_error_line, run_module
from tests.infra.test_plan import copy_project


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(project), "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("diff"))
    shutil.copy(PROJECT_DIR / "README.md", project / "README.md")
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-qm", "base")
    return project


def snapshot(project: Path) -> dict[str, str]:
    """Every file of the project but git's own, with the sha256 of its content."""
    return {
        str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(project).parts and "__pycache__" not in p.parts
    }


HOSTILE_REFS = [
    "--output=README.md",  # git archive's option: truncated README.md
    "--list",  # git archive's option: ended in a CalledProcessError traceback
    "--remote=/nonexistent",
    "--exec=touch pwned",
    "--format=zip",
    "-oREADME.md",
    "--end-of-options",
    "HEAD:Pulumi.yaml",  # a blob, not a commit
    "HEAD^{tree}",  # a tree
    "no-such-ref",
    "HEAD~999",
    "HEAD..HEAD",  # a range
    "@{-1}",  # no previous branch
    "dev",  # the planned stack itself
    "HEAD\n--output=README.md",
    "r" * 10_000,
]


@pytest.mark.parametrize("ref", HOSTILE_REFS, ids=[r[:24].replace("\n", "\\n") for r in HOSTILE_REFS])
def test_a_ref_that_names_no_commit_is_one_error_line_and_writes_nothing(project, monkeypatch, capsys, ref):
    before = snapshot(project)
    monkeypatch.setattr(plan, "PROJECT_DIR", project)
    assert plan.main(["--stack", "dev", f"--diff={ref}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err).startswith(
        f"error: --diff {ref!r} is neither another stack nor a commit in {project}"
    )
    assert "expected another stack (prod, registry, test) or a git commit" in captured.err
    assert snapshot(project) == before and git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--diff="],
            "error: --diff is empty; expected another stack (prod, registry, test) or a git commit such as HEAD~1, "
            "a branch or a tag",
        ),
        (
            ["--diff", "   "],
            "error: --diff is empty; expected another stack (prod, registry, test) or a git commit such as "
            "HEAD~1, a branch or a tag",
        ),
        (["--diff", "--list"], "error: argument --diff: expected one argument (see python -m scripts.plan --help)"),
    ],
)
def test_an_empty_or_missing_ref_is_one_error_line(project, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(plan, "PROJECT_DIR", project)
    try:
        status = plan.main(["--stack", "dev", *argv])
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    assert status == 2
    assert one_error_line(capsys.readouterr().err) == message


def test_the_issues_command_leaves_readme_whole(project):
    """The reproduction from issue 17, as a user types it, in a subprocess with a timeout."""
    readme = (project / "README.md").read_bytes()
    result = run_module("scripts.plan", "--stack", "dev", "--diff=--output=README.md", cwd=project)
    assert result.returncode == 2 and result.stdout == ""
    assert one_error_line(result.stderr).startswith("error: --diff '--output=README.md' is neither another stack")
    assert (project / "README.md").read_bytes() == readme


@pytest.mark.slow
def test_a_commit_whose_plan_fails_is_one_error_line(project, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns("__pycache__"))
    config = broken / "Pulumi.dev.yaml"
    config.write_text(config.read_text().replace("maxNodes: 1", "maxNodes: -1"))
    git(broken, "commit", "-qam", "a stack config the settings refuse")
    git(broken, "checkout", "-q", "HEAD~1", "--", "Pulumi.dev.yaml")  # the working tree plans fine
    commit = git(broken, "rev-parse", "HEAD").strip()
    result = run_module("scripts.plan", "--stack", "dev", "--diff", "HEAD", cwd=broken)
    assert result.returncode == 2 and result.stdout == ""
    line = one_error_line(result.stderr)
    assert line.startswith(f"error: --diff: the plan of 'dev' at commit {commit[:12]} failed: ")
    assert "mlops-platform:workspaces[0].gpuCluster.maxNodes: -1 is not valid" in line
