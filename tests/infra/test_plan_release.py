"""The offline release preview of `python -m scripts.plan`: with a candidate and evaluation data it fails
early on what `up` would fail on (one `error:` line, exit 2), says what the traffic resource would do in
words, and with `--champion DIR` runs the real champion/challenger decision against a local artifact.

The models are the tiny ones tests/release trains once per session (`models`: a trained model and two
copies of it with the decision threshold moved to 0 and 1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.compare import CompareSettings, compare
from scripts.plan.__main__ import main
from scripts.release_version import serving_version_of
from tests.hostile.bounded_cli import one_error_line
from tests.release.conftest import models  # noqa: F401  (the session fixture)

KEY = "mlops-platform:workspaces[0].release"
TRAFFIC, SELECTION = "hatespeech-release-traffic", "hatespeech-release-selection"


def release_args(candidate, data, *settings: str) -> list[str]:
    args = [
        "--config",
        f"workspaces[0].release.candidate={candidate}",
        "--config",
        f"workspaces[0].release.evaluationData={data}",
    ]
    for setting in settings:
        args += ["--config", f"workspaces[0].release.{setting}"]
    return args


def plan(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def line_of(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if f"  {name}  " in line)


def refused(capsys, *argv) -> str:
    code, out, err = plan(capsys, *argv)
    assert code == 2 and out == ""
    return one_error_line(err)


def decided(capsys, stack: str, candidate: Path, champion: Path, models) -> str:
    """The tree of `stack` with `candidate` released, decided offline against `champion`."""
    code, out, _ = plan(
        capsys, "--stack", stack, *release_args(candidate, models.evaluation_data), "--champion", str(champion)
    )
    assert code == 0
    return out


def version_of_folder(folder: Path) -> str:
    from infra.release.content import content_sha256, version_of

    return version_of(content_sha256(str(folder)))


# ---------------------------------------------------------------------------------- failing early
@pytest.mark.slow
@pytest.mark.parametrize(
    "content, reason",
    [
        ("text,label\nola,0\n", "missing column(s) ['hate']; found ['text', 'label']"),
        ("text,hate\nola,0\nodio,2\n", "line 3, column 'hate' has value '2'; accepted values are 0 and 1"),
        ("", "the file is empty"),
    ],
)
def test_bad_evaluation_data_fails_the_preview_naming_the_file(models, tmp_path, capsys, content, reason):
    data = tmp_path / "evaluation.csv"
    data.write_text(content, encoding="utf-8")
    error = refused(capsys, "--stack", "dev", *release_args(models.good, data))
    assert error.startswith(
        f"error: the release in workspace hatespeech would fail at `up`: {KEY}.evaluationData: {data}: "
    )
    assert reason in error


def test_a_candidate_that_is_not_a_model_fails_the_preview(candidate, capsys):
    """The infra fixture's folder holds artifact.json and made-up weights: enough for the provider's
    check, not for the comparison `up` runs."""
    error = refused(capsys, "--stack", "dev", *release_args(candidate["path"], candidate["evaluation"]))
    assert f"{KEY}.candidate: {candidate['path']}/artifact.json: 'labels' is None" in error


@pytest.mark.slow
def test_an_approval_of_another_version_is_an_error_where_approval_is_required(models, capsys):
    version = version_of_folder(models.good)
    error = refused(
        capsys, "--stack", "prod", *release_args(models.good, models.evaluation_data, "approvedVersion=0123456789ab")
    )
    assert (
        f"{KEY}.approvedVersion is '0123456789ab', but the candidate is version {version}: this stack requires "
        f"approval, so `up` would ignore the approval and only stage {version}"
    ) in error
    code, _, err = plan(
        capsys, "--stack", "dev", *release_args(models.good, models.evaluation_data, "approvedVersion=0123456789ab")
    )
    assert code == 0 and err == "", "dev does not require approval: an approval there changes nothing"


# ---------------------------------------------------------------------------------- words
@pytest.mark.slow
def test_prod_says_the_release_is_staged_and_how_to_approve_it(models, capsys):
    version, serving = version_of_folder(models.good), serving_version_of("prod", "hatespeech")
    code, out, _ = plan(capsys, "--stack", "prod", *release_args(models.good, models.evaluation_data))
    assert code == 0
    assert line_of(out, TRAFFIC).endswith(
        f"→ if {version} wins the comparison at `up` (--champion DIR runs it now): staged until approved: approve with "
        f"`pulumi config set --stack prod --path --type string 'workspaces[0].release.approvedVersion' {version}` and "
        f"`pulumi config set --stack prod --path --type string 'workspaces[0].release.approvedServingVersion' {serving}` "
        "(the serving version, as `python -m scripts.release_version --serving prod hatespeech` prints it); "
        "if it loses, traffic stays as it is"
    )
    assert line_of(out, SELECTION).endswith(
        f"→ compares {version} with the model in production at `up`, on 200 rows (50 hate) of {models.evaluation_data}"
    )


@pytest.mark.slow
def test_an_approved_prod_release_names_its_rollout_steps(models, capsys):
    version, serving = version_of_folder(models.good), serving_version_of("prod", "hatespeech")
    code, out, _ = plan(
        capsys,
        "--stack",
        "prod",
        *release_args(
            models.good, models.evaluation_data, f"approvedVersion={version}", f"approvedServingVersion={serving}"
        ),
    )
    assert code == 0
    assert (
        "then mirror 10 % → canary 10 % → 50 % → 100 %, 300 s holds between steps (a first release, with no "
        "model live, goes to 100 % at once); if it loses, traffic stays as it is"
    ) in line_of(out, TRAFFIC)
    code, out, _ = plan(capsys, "--stack", "dev", *release_args(models.good, models.evaluation_data))
    assert "smoke-tested, then 100 % at once; if it loses" in line_of(out, TRAFFIC), "dev has no rollout steps"


# ---------------------------------------------------------------------------------- the offline decision
@pytest.mark.slow
def test_the_decision_against_a_local_champion_is_the_comparison_up_would_run(models, capsys):
    champion, version = version_of_folder(models.never_hate), version_of_folder(models.good)
    out = decided(capsys, "prod", models.good, models.never_hate, models)
    expected = compare(
        models.never_hate,
        models.good,
        models.evaluation_data,
        CompareSettings(alpha=0.05, min_delta=0.01, max_category_recall_drop=0.05, max_latency_factor=1.5),
    )
    assert expected["winner"] == "challenger"
    assert f"  winner      challenger  (McNemar p {expected['p_value']:.4g}, {expected['mcnemar']['method']}" in out
    assert f"  reason      {expected['reason']}" in out
    for metric in ("macro_f1", "f1_hate", "recall_hate"):
        row = next(line for line in out.splitlines() if line.startswith(f"  {metric} "))
        assert row.split()[1:] == [f"{expected['champion'][metric]:.4f}", f"{expected['challenger'][metric]:.4f}"]
    assert "  guardrail primary_metric_floor: passed" in out and "  guardrail latency: passed" in out
    assert line_of(out, SELECTION).endswith(
        f"→ {version} wins against champion {champion} "
        f"(McNemar p {expected['p_value']:.4g}), on 200 rows (50 hate) of "
        f"{models.evaluation_data}"
    )
    assert f"→ {version} won: staged until approved: approve with" in line_of(out, TRAFFIC)


@pytest.mark.slow
def test_a_losing_candidate_leaves_traffic_on_the_champion(models, capsys):
    champion, version = version_of_folder(models.good), version_of_folder(models.always_hate)
    out = decided(capsys, "dev", models.always_hate, models.good, models)
    assert "  winner      champion  (McNemar p" in out
    assert re.search(r"  guardrail primary_metric_floor: FAILED \(challenger 0\.\d{4}, limit 0\.5000\)", out)
    assert line_of(out, TRAFFIC).endswith(f"→ challenger {version} lost: traffic stays on {champion}")


@pytest.mark.slow
def test_the_champion_itself_as_candidate_is_not_compared(models, capsys):
    version = version_of_folder(models.good)
    out = decided(capsys, "dev", models.good, models.good, models)
    assert f"  reason      version {version} is already the production model" in out
    assert "metric" not in out.split("release decision", 1)[1]


@pytest.mark.slow
def test_the_diff_carries_the_release_preview(models, capsys):
    code, out, _ = plan(
        capsys,
        "--stack",
        "prod",
        "--diff",
        "dev",
        *release_args(models.good, models.evaluation_data),
        "--champion",
        str(models.never_hate),
    )
    assert code == 0
    preview = out.split("#### Release preview\n", 1)[1]
    assert f"- **{TRAFFIC}**: {version_of_folder(models.good)} won: staged until approved" in preview
    assert "```text\nrelease decision for workspace hatespeech" in preview


def test_champion_options_that_cannot_work_are_one_error_line(candidate, tmp_path, capsys):
    assert refused(capsys, "--stack", "dev", "--champion", str(tmp_path)).startswith(
        "error: --champion needs exactly one release in the plan (found: none)"
    )
    with pytest.raises(SystemExit) as exited:  # a usage error, as argparse reports it
        main(["--stack", "dev", "--json", "--champion", str(tmp_path)])
    assert exited.value.code == 2
    assert one_error_line(capsys.readouterr().err).startswith(
        "error: --champion previews a release in the tree or the --diff output"
    )


@pytest.mark.slow
def test_a_champion_that_is_no_model_is_one_error_line(models, candidate, tmp_path, capsys):
    args = ["--stack", "dev", *release_args(models.good, models.evaluation_data)]
    assert refused(capsys, *args, "--champion", str(tmp_path / "missing")) == (
        f"error: --champion {tmp_path / 'missing'}: no such folder; accepted: the local artifact folder of the "
        "model in production"
    )
    assert refused(capsys, *args, "--champion", candidate["path"]).startswith(
        f"error: --champion: {candidate['path']}/artifact.json: 'labels' is None"
    )
