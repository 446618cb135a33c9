"""scripts/drift, the drift check both CI definitions run, with a stand-in pulumi.

The flags are the CLI's (pulumi/pulumi, pkg/cmd/pulumi/operations/preview.go at v3.259.0): `--expect-no-changes`
("Return an error if any changes are proposed by this preview"), `--refresh` (a string flag whose NoOptDefVal is
"true", so it is given without a value), `--diff`, `--policy-pack`, `--suppress-progress`, `--message`; `--color`
and `--non-interactive` are global (pkg/cmd/pulumi/pulumi.go). With changes proposed the preview fails with
backenderr.NoChangesExpectedError, "no changes were expected for preview but changes were proposed"
(pkg/backend/backenderr/backenderr.go); refresh steps do not count (engine.HasChanges counts logical steps only,
and RefreshStep.Logical() is false).
"""

import subprocess
from pathlib import Path

from tests.paths import REPO_ROOT
from tests.pipelines.conftest import fake_pulumi

DRIFT = REPO_ROOT / "scripts" / "drift"
NO_CHANGES_EXPECTED = "error: no changes were expected for preview but changes were proposed\n"
DIFF = (
    "Previewing update (prod):\n"
    "  pulumi:pulumi:Stack: (same)\n"
    "    ~ azure-native:storage:StorageAccount: (update)\n"
    "        ~ allowBlobPublicAccess: true => false\n"
    "Resources:\n    ~ 1 to update\n    41 unchanged\n"
)


def run_drift(tmp_path: Path, answer: tuple[int, str] | None, *arguments: str, cwd: Path | None = None):
    fake_pulumi(tmp_path / "bin", tmp_path / "calls", {"preview": answer} if answer else None)
    result = subprocess.run(
        [str(DRIFT), *arguments],
        cwd=cwd or tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
        check=False,
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


def test_without_drift_it_passes_and_says_so_in_the_summary(tmp_path):
    result, calls = run_drift(tmp_path, (0, "Resources:\n    42 unchanged\n"), "prod", str(tmp_path / "s.md"), "m")
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [
        "pulumi preview --stack prod --policy-pack policy --refresh --expect-no-changes --diff "
        "--non-interactive --suppress-progress --color never --message m"
    ]
    summary = (tmp_path / "s.md").read_text()
    assert summary.startswith("## No drift in prod\n\n```diff\n") and "42 unchanged" in summary
    assert "42 unchanged" in result.stdout, "the log keeps the preview's output"


def test_drift_fails_with_the_diff_in_the_summary_after_what_was_there(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("Release candidate for prod: model version abc (approved: true)\n")
    result, _ = run_drift(tmp_path, (255, DIFF + NO_CHANGES_EXPECTED), "prod", str(summary))
    assert result.returncode == 255
    text = summary.read_text()
    assert text.startswith("Release candidate for prod"), "a step summary is appended to, not replaced"
    assert "## Drift in prod: the live estate differs from what the program declares\n" in text
    assert "```diff\n" + DIFF + NO_CHANGES_EXPECTED in text
    assert "error: on stderr" in text, "the preview's stderr is in the summary too"
    assert result.stdout.rstrip().endswith("Drift in prod: the live estate differs from what the program declares")


def test_a_preview_that_fails_for_another_reason_is_not_called_drift(tmp_path):
    result, _ = run_drift(tmp_path, (255, "error: failed to load checkpoint: blob not found\n"), "test", "s.md")
    assert result.returncode == 255
    text = (tmp_path / "s.md").read_text()
    assert text.startswith("## The drift check of test failed (exit 255) before it could compare\n")
    assert "Drift in test" not in text and "blob not found" in text


def test_a_long_diff_is_cut_at_64_kib_with_a_note(tmp_path):
    long_diff = "".join(f"    ~ azure-native:resource-{i}: (update)\n" for i in range(4000)) + NO_CHANGES_EXPECTED
    result, _ = run_drift(tmp_path, (255, long_diff), "dev", "s.md")
    assert result.returncode == 255
    text = (tmp_path / "s.md").read_text()
    whole = long_diff + "error: on stderr\n"
    assert len(whole) > 65536
    assert whole[:65536] in text and whole[:65537] not in text
    assert f"_The first 64 KiB of {len(whole)} bytes: the whole output is in the log._" in text
    assert len(text) < 65536 + 300
    assert NO_CHANGES_EXPECTED in result.stdout, "the log has all of it"


def test_a_relative_summary_is_written_where_it_was_called_from(tmp_path):
    (tmp_path / "out").mkdir()
    result, _ = run_drift(tmp_path, (0, "ok\n"), "dev", "out/s.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "s.md").exists() and not (REPO_ROOT / "out" / "s.md").exists()


def test_bad_arguments_are_refused_before_pulumi_runs(tmp_path):
    result, calls = run_drift(tmp_path, None, "prod")
    assert result.returncode == 2 and result.stderr == "usage: scripts/drift STACK SUMMARY.md [MESSAGE]\n"
    result, calls = run_drift(tmp_path, None, "prod", str(tmp_path / "missing" / "s.md"))
    assert result.returncode == 2
    assert f"{tmp_path / 'missing'} does not exist" in result.stderr
    assert calls == []
