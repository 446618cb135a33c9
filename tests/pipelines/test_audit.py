"""The audit report, on JSON recorded in the formats `pulumi stack history --json` and
`pulumi stack export` print (fixtures/), and through a stand-in Pulumi CLI."""

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.audit import sources
from scripts.audit.cells import changes, pending, release_step
from scripts.audit.cli import main
from scripts.audit.document import text
from scripts.audit.history import parse_history
from scripts.audit.render_markdown import escape
from scripts.audit.secrets import SECRET, redact
from scripts.audit.shapes import ShapeError, parse_time
from tests.paths import REPO_ROOT
from tests.pipelines.conftest import FIXTURES

HISTORY = FIXTURES / "prod-history.json"
EXPORT = FIXTURES / "prod-export.json"
PREVIOUS = FIXTURES / "prod-export-before-v6.json"
LEAKS = ("MUST-NOT-APPEAR", "PROVIDER-PICKLE", "gANjZGlsbC", "CIPHERTEXT")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    code = main(
        [
            "--stack",
            "prod",
            "--history",
            str(HISTORY),
            "--export",
            str(EXPORT),
            "--previous-export",
            str(PREVIOUS),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return (out / "audit-prod.md").read_text(), (out / "audit-prod.html").read_text()


def table_rows(markdown: str, caption_or_title: str) -> list[list[str]]:
    """Rows of the first Markdown table after a heading or caption containing the text."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if caption_or_title in line)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
        elif rows:
            break
    return rows[2:]  # without header and separator


def test_fixtures_follow_the_cli_formats():
    history = json.loads(HISTORY.read_text())
    assert [e["version"] for e in history] == sorted((e["version"] for e in history), reverse=True)
    for entry in history:
        assert {"version", "kind", "startTime", "message", "environment", "config", "result"} <= set(entry)
        assert all("secret" in value for value in entry["config"].values())
    export = json.loads(EXPORT.read_text())
    assert export["version"] == 3
    assert all({"urn", "type"} <= set(r) for r in export["deployment"]["resources"])


@pytest.mark.parametrize("which", [0, 1])
def test_no_secret_reaches_either_report(reports, which):
    report = reports[which]
    for leak in LEAKS:
        assert leak not in report
    assert (SECRET if which else r"\[secret\]") in report


def test_stack_outputs_are_shown_with_secrets_masked(reports):
    outputs = dict(table_rows(reports[0], "_Stack outputs_"))
    assert outputs["dashboardToken"] == r"\[secret\]"
    assert outputs["endpointScoringUri"].startswith("https://mlops-hatespeech-prod-c1")


def test_timeline_has_every_update_newest_first_with_who_commit_ci_and_changes(reports):
    rows = table_rows(reports[0], "## Timeline of updates")
    assert [r[0] for r in rows] == ["7", "6", "5", "4", "3", "2", "1"]
    by_version = {r[0]: r for r in rows}
    assert by_version["2"][4] == "**failed**"
    assert by_version["7"][1:5] == ["**destroy**", "2026-10-14T07:30:00Z", "1m05s", "**failed**"]
    assert by_version["6"][1:5] == ["update", "2026-10-12T16:00:00Z", "9m30s", "succeeded"]
    assert by_version["4"][5] == r"Ana Silva \<ana@example.com\>"
    assert by_version["4"][6] == "3333333333aa on main"
    assert by_version["4"][7] == "[GitHub 110](https://github.com/acme/mlops-platform/actions/runs/1010)"
    assert by_version["4"][9] == "1 created, 2 updated, 26 unchanged"
    assert by_version["6"][9] == "1 updated, 1 deleted, 27 unchanged"
    assert by_version["5"][7] == r"local \(no CI\)"


def test_pull_request_numbers_become_links(tmp_path):
    history = json.loads(HISTORY.read_text())
    history[0]["environment"].update(
        {"ci.pr.number": "19", "vcs.kind": "github.com", "vcs.owner": "acme", "vcs.repo": "mlops-platform"}
    )
    (tmp_path / "h.json").write_text(json.dumps(history))
    assert (
        main(
            ["--stack", "prod", "--history", str(tmp_path / "h.json"), "--export", str(EXPORT), "--out", str(tmp_path)]
        )
        == 0
    )
    assert (
        '<a href="https://github.com/acme/mlops-platform/pull/19">PR #19</a>'
        in (tmp_path / "audit-prod.html").read_text()
    )


def test_everything_from_the_stack_is_escaped_in_html(reports):
    html = reports[1]
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; | open SSH" in html
    assert "Mallory &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="javascript:' not in html and "javascript:alert(1)" not in html


def test_markdown_cannot_inject_markup(reports):
    markdown = reports[0]
    assert "<script>" not in markdown and "<b>" not in markdown
    assert r"\<script\>alert\('x'\)\</script\> \| open SSH on the cluster" in markdown


def test_release_decision_with_evidence_and_traffic_before_and_after(reports):
    markdown = reports[0]
    [decision] = table_rows(markdown, "_Champion/challenger decisions_")
    assert decision[:8] == [
        "hatespeech-decision",
        "hate-speech-pt",
        "mlops-hatespeech-prod-c1",
        "b0a7f00d",
        "c0ffee12",
        "challenger",
        "c0ffee12",
        "0.0123",
    ]
    metrics = {r[0]: r[1:] for r in table_rows(markdown, "_Metrics on the evaluation data_")}
    assert metrics[r"macro\_f1"] == ["0.781", "0.812"]
    guardrails = {r[0]: r[1:] for r in table_rows(markdown, "_Guardrails_")}
    assert guardrails == {
        r"category\_recall": ["yes", r"limit: 0.05, max\_drop: 0.02"],
        "latency": ["yes", "factor: 1.12, limit: 1.5"],
    }
    assert r"McNemar's test: b: 31, c: 62, method: chi2-corrected, p\_value: 0.0123, statistic: 9.68." in markdown
    [traffic] = table_rows(markdown, "_Traffic ")
    assert traffic[2:10] == [
        "blue 100%, green 0%",
        "blue 0%, green 100%",
        "none",
        "c0ffee12",
        "—",
        "yes",
        "c0ffee12",
        "c0ffee12 approved and live",
    ]
    steps = table_rows(markdown, "_Last run of hatespeech-traffic_")
    assert [s[0] for s in steps] == ["1", "2", "3", "4", "5"]
    assert steps[2][1] == "traffic blue 90%, green 10% mirror none: canary 10%"  # logged as "{'blue': 90, ...}"
    assert steps[-1][1] == "traffic blue 0%, green 100% mirror none: c0ffee12 live"
    [version] = table_rows(markdown, "_Registered model versions_")
    assert version[2:5] == ["c0ffee12", "production", "no"]


def test_traffic_before_is_not_invented_without_an_older_export(tmp_path):
    assert main(["--stack", "prod", "--history", str(HISTORY), "--export", str(EXPORT), "--out", str(tmp_path)]) == 0
    [traffic] = table_rows((tmp_path / "audit-prod.md").read_text(), "_Traffic ")
    assert traffic[2:4] == ["not recorded", "blue 0%, green 100%"]


def test_release_settings_rows_show_who_set_the_candidate_and_the_approval(reports):
    rows = table_rows(reports[0], "_Release settings as updates changed them")
    assert [(r[0], r[7], r[9]) for r in rows] == [
        ("3", "artifacts/hate-speech-pt", "—"),
        ("4", "artifacts/hate-speech-pt", "c0ffee12"),
    ]
    assert rows[1][4] == "[GitHub 110](https://github.com/acme/mlops-platform/actions/runs/1010)"


def test_config_changes_between_updates_hide_secret_values(reports):
    rows = [(r[0], *r[5:]) for r in table_rows(reports[0], "## Configuration changes")]
    assert ("4", "mlops-platform:scoringKey", r"\(absent\)", r"\[secret\]") in rows
    assert ("4", r"mlops-platform:workspaces\[0\].release.approvedVersion", r"\(absent\)", "c0ffee12") in rows
    assert ("6", r"mlops-platform:workspaces\[0\].cpuCluster.maxNodes", "8", "4") in rows
    assert not any(r[1].startswith("mlops-platform:alertWebhook") for r in rows)  # secret, present throughout


def test_config_changes_say_when_who_and_how_the_update_ended(reports):
    """The SSH key was added by update 2, which failed: its row says so, in bold, with its author."""
    rows = {(r[0], r[5]): r[1:5] for r in table_rows(reports[0], "## Configuration changes")}
    assert rows[("2", "mlops-platform:computeAccess.sshPublicKey")] == [
        "2026-10-05T14:00:00Z",
        "**failed**",
        r"Mallory \<b\>bold\</b\> \<m@example.com\>",
        "GitHub 104",
    ]
    assert rows[("6", r"mlops-platform:workspaces\[0\].cpuCluster.maxNodes")] == [
        "2026-10-12T16:00:00Z",
        "succeeded",
        r"Rui Costa \<rui@example.com\>",
        "[GitHub 142](https://github.com/acme/mlops-platform/actions/runs/1042)",
    ]


def test_destroyed_section_lists_deletes_and_resources_gone(reports):
    markdown = reports[0]
    deletes = table_rows(markdown, "_Updates that deleted or replaced resources_")
    assert [(r[0], r[1], r[3], r[5]) for r in deletes] == [
        ("7", "**destroy**", "**failed**", "2"),
        ("6", "update", "succeeded", "1"),
    ]
    [gone] = table_rows(markdown, "_Resources in the previous export that are gone")
    assert gone[0].endswith("::hatespeech-gpu")
    pending = table_rows(markdown, "_Resources the current state marks for deletion")
    assert [(r[0].rsplit("::", 1)[1], r[2]) for r in pending] == [
        ("hatespeech-tmp", "marked for deletion"),
        ("hatespeech-gpu", "pending delete"),
    ]
    assert all(r[1] == "azure-native:machinelearningservices:Compute" for r in pending)


def test_the_summary_comes_first_with_period_updates_failures_releases_and_champions(reports):
    markdown = reports[0]
    assert markdown.index("## Summary") < markdown.index("## Timeline of updates")
    facts = dict(table_rows(markdown, "## Summary"))
    assert facts["Period"] == "2026-10-01T09:00:00Z to 2026-10-14T07:31:05Z"  # first start, last end
    assert facts["Updates"] == "7: 5 succeeded, 2 failed, 0 in progress"
    assert facts["Failed updates"] == r"**2: version 2 \(update\), version 7 \(destroy\)**"
    assert facts["Destroy operations"] == r"**1: version 7 \(failed\)**"
    assert facts["Releases"] == (
        r"2 change\(s\) of release settings \(candidate or approval\), by updates 3, 4; "
        r"1 champion/challenger decision\(s\) in the current state"
    )
    assert facts["Latest update"] == "**version 7: destroy failed, started 2026-10-14T07:30:00Z**"
    [champion] = table_rows(markdown, "_Current champion per workspace")
    assert champion == [
        "mlw-mlops-hatespeech-prod-c1",
        "hate-speech-pt",
        "c0ffee12",
        "mlops-hatespeech-prod-c1",
        "blue 0%, green 100%",
        "—",
        "c0ffee12",
    ]


def test_a_workspace_whose_release_is_staged_has_no_champion_live(tmp_path):
    export = json.loads(EXPORT.read_text())
    [traffic] = [r for r in export["deployment"]["resources"] if r["urn"].endswith("::hatespeech-traffic")]
    traffic["outputs"].update(live_version=None, staged_version="c0ffee12", traffic={"blue": 100, "green": 0})
    (tmp_path / "e.json").write_text(json.dumps(export))
    assert (
        main(
            ["--stack", "prod", "--history", str(HISTORY), "--export", str(tmp_path / "e.json"), "--out", str(tmp_path)]
        )
        == 0
    )
    [champion] = table_rows((tmp_path / "audit-prod.md").read_text(), "_Current champion per workspace")
    assert champion[2:6] == ["none live", "mlops-hatespeech-prod-c1", "blue 100%, green 0%", "c0ffee12"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_input_file_is_listed_with_its_size_and_sha256(reports):
    rows = table_rows(reports[0], "_Inputs the report was made from")
    assert rows == [
        [escape(flag), escape(str(path)), str(path.stat().st_size), sha256(path)]
        for flag, path in (("--history", HISTORY), ("--export", EXPORT), ("--previous-export", PREVIOUS))
    ]


def test_every_time_in_the_report_is_iso_8601_utc(reports):
    """The fixtures record times in RFC 3339 with milliseconds, in Go's layout ("2026-10-14 07:30:00 +0000 UTC")
    and with an offset ("+00:00" in the decision's state): the report writes them all one way."""
    for report in reports:
        times = re.findall(r"\d{4}-\d\d-\d\d[\dT:.+-]*[\dZ]", report)
        assert len(times) >= 20
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in times), set(times)
        assert " UTC" not in report and "+00:00" not in report


def test_nested_values_read_as_text_never_as_python_or_json(reports):
    markdown, html = reports
    for literal in ("{'", '{"', "{}", "': ", '": '):
        assert literal not in markdown
    for literal in ("{&#x27;", "{&quot;", "{}"):
        assert literal not in html
    assert "traffic blue 50%, green 50% mirror none: canary 50%" in html


@pytest.mark.parametrize(
    "value, shown",
    [
        ({"limit": 0.05, "max_drop": 0.02}, "limit: 0.05, max_drop: 0.02"),
        (
            {"rollout": [10, 50], "hold": {"seconds": 300}, "mirror": {}},
            "hold: (seconds: 300), mirror: (none), rollout: (10, 50)",
        ),
        ([], "none"),
        ({}, "none"),
        ([True, None, "a  b"], "yes, —, a b"),
    ],
)
def test_text_writes_objects_and_arrays_as_words(value, shown):
    assert text(value) == shown


@pytest.mark.parametrize(
    "step, shown",
    [
        (
            "traffic {'blue': 90, 'green': 10} mirror {}: canary 10%",
            "traffic blue 90%, green 10% mirror none: canary 10%",
        ),
        ("traffic {'blue': 100} mirror {'green': 10.5}: mirror", "traffic blue 100% mirror green 10.5%: mirror"),
        ("refused {'a': 'b'}", "refused {'a': 'b'}"),  # not a traffic split: left as recorded
    ],
)
def test_release_steps_show_logged_traffic_splits_as_percentages(step, shown):
    assert release_step(step) == shown


def test_change_types_read_as_words():
    assert changes({"same": 3, "create-replacement": 1, "delete-replaced": 1, "replace": 1, "frobnicate-all": 2}) == (
        "1 replaced, 1 created as replacements, 1 deleted after replacement, 3 unchanged, 2 frobnicate all"
    )
    assert changes({}) == changes({"same": 0}) == "none"
    assert [pending(t) for t in ("creating", "updating", "deleting", "reading", "importing", "odd")] == [
        "pending create",
        "pending update",
        "pending delete",
        "pending read",
        "pending import",
        "pending odd",
    ]


def test_failed_updates_and_destroys_stand_out_in_both_reports(reports):
    markdown, html = reports
    timeline = {r[0]: r for r in table_rows(markdown, "## Timeline of updates")}
    assert [v for v, r in timeline.items() if any(c.startswith("**") for c in r)] == ["7", "2"]
    marked = re.findall(
        r'<tr class="attention"><td class="word">(\d+)</td>', html.split("<h2>Timeline")[1].split("</table>")[0]
    )
    assert marked == ["7", "2"]
    assert "<strong>destroy</strong>" in html and "<strong>failed</strong>" in html


def test_the_readme_command_on_the_sample_fixtures_writes_the_report(tmp_path):
    """The README's audit section gives a command that runs on the recorded fixtures as it is written."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Audit report", 1)[1].split("\n## ", 1)[0]
    [command] = [
        line
        for line in section.splitlines()
        if line.startswith("venv/bin/python -m scripts.audit") and "tests/pipelines/fixtures/" in line
    ]
    argv = shlex.split(command.split("#", 1)[0])
    assert argv[:3] == ["venv/bin/python", "-m", "scripts.audit"]
    assert {"--history", "--export", "--previous-export"} <= set(argv)
    completed = subprocess.run(
        [sys.executable, *argv[1:], "--out", str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert table_rows((tmp_path / "audit-prod.md").read_text(), "## Timeline of updates")


def test_redact_replaces_secret_values_and_drops_the_pickled_provider():
    sig = {"4dabf18193072939515e22adc298c5c1": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"hunter2"'}
    assert redact({"a": [sig, 1], "__provider": sig, "b": {"c": sig}}) == {"a": [SECRET, 1], "b": {"c": SECRET}}


@pytest.mark.parametrize(
    "text", ["2026-10-14T07:30:00.000Z", "2026-10-14 07:30:00 +0000 UTC", "2026-10-14 09:30:00.123456789 +0200 CEST"]
)
def test_history_times_in_either_cli_layout(text):
    assert parse_time(text).strftime("%Y-%m-%d %H:%M:%S") == "2026-10-14 07:30:00"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda e: e.update(kind="deploy"),
            'history[0].kind: expected one of update, preview, refresh, destroy, import or rename, got "deploy"',
        ),
        (lambda e: e.update(version="7"), 'history[0].version: expected an integer, got "7"'),
        (
            lambda e: e.update(startTime="yesterday"),
            'history[0].startTime: expected a time such as 2024-05-01T10:00:00.000Z, got "yesterday"',
        ),
        (
            lambda e: e.update(resourceChanges={"delete": "two"}),
            'history[0].resourceChanges.delete: expected an integer, got "two"',
        ),
    ],
)
def test_bad_history_is_rejected_naming_the_field(mutate, message):
    history = json.loads(HISTORY.read_text())
    mutate(history[0])
    with pytest.raises(ShapeError) as raised:
        parse_history(history)
    assert str(raised.value) == message


def test_an_update_still_running_has_no_end_and_no_changes():
    running = {
        "version": 8,
        "kind": "update",
        "startTime": "2026-10-15T09:00:00.000Z",
        "message": "in flight",
        "environment": {},
        "config": {},
        "result": "in-progress",
    }
    [update] = parse_history([running])
    assert update.end is None and update.resource_changes == {} and update.result == "in-progress"


def test_bad_inputs_exit_with_a_clear_error(tmp_path, capsys):
    assert main(["--stack", "prod", "--history", str(tmp_path / "none.json"), "--export", str(EXPORT)]) == 2
    assert "--history" in capsys.readouterr().err
    (tmp_path / "export.json").write_text('{"resources": []}')
    assert main(["--stack", "prod", "--history", str(HISTORY), "--export", str(tmp_path / "export.json")]) == 2
    assert "audit: error: --export '" in (err := capsys.readouterr().err) and err.endswith(
        "export.json': version: required, but missing\n"
    )
    with pytest.raises(SystemExit):
        main(["--stack", "prod", "--history", str(HISTORY)])
    assert "--history and --export go together" in capsys.readouterr().err


FAKE_PULUMI = """#!{python}
import json, sys
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] == ["stack", "history"]:
    history = json.load(open({history!r}))
    size, page = int(args[args.index("--page-size") + 1]), int(args[args.index("--page") + 1])
    page = 1 if {ignore_page} else page  # as a CLI that does not know --page
    print(json.dumps(history[(page - 1) * size: page * size]))
elif args[:2] == ["stack", "export"]:
    print(open({export!r}).read())
else:
    sys.exit("unexpected command " + " ".join(args))
"""


def fake_cli(tmp_path: Path, ignore_page: bool = False) -> tuple[Path, Path]:
    log, fake = tmp_path / "calls.log", tmp_path / "pulumi"
    fake.write_text(
        FAKE_PULUMI.format(
            python=sys.executable, log=str(log), history=str(HISTORY), export=str(EXPORT), ignore_page=ignore_page
        )
    )
    fake.chmod(0o755)
    return fake, log


def history_pages(log: Path) -> list[str]:
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return [c[c.index("--page") + 1] for c in calls if c[:2] == ["stack", "history"]]


def test_reads_every_history_page_and_the_export_from_the_cli(tmp_path, monkeypatch):
    fake, log = fake_cli(tmp_path)
    monkeypatch.setattr(sources, "HISTORY_PAGE_SIZE", 3)
    assert main(["--stack", "prod", "--cwd", "/work/project", "--pulumi", str(fake), "--out", str(tmp_path)]) == 0
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    history_calls = [c for c in calls if c[:2] == ["stack", "history"]]
    assert [c[c.index("--page") + 1] for c in history_calls] == ["1", "2", "3"]
    assert all(
        "--show-secrets=false" in c and "--json" in c and c[c.index("--cwd") + 1] == "/work/project"
        for c in history_calls
    )
    [export_call] = [c for c in calls if c[:2] == ["stack", "export"]]
    assert "--show-secrets" not in export_call and export_call[export_call.index("--stack") + 1] == "prod"
    markdown = (tmp_path / "audit-prod.md").read_text()
    assert len(table_rows(markdown, "## Timeline of updates")) == 7


@pytest.mark.parametrize(
    "page_size, ignore_page, pages",
    [
        (7, False, ["1", "2"]),  # a full last page: the next one is empty
        (7, True, ["1", "2"]),  # a CLI that ignores --page prints page 1 again: paging stops there
    ],
)
def test_history_paging_stops_at_an_empty_or_repeated_page(tmp_path, monkeypatch, page_size, ignore_page, pages):
    fake, log = fake_cli(tmp_path, ignore_page)
    monkeypatch.setattr(sources, "HISTORY_PAGE_SIZE", page_size)
    assert main(["--stack", "prod", "--pulumi", str(fake), "--out", str(tmp_path)]) == 0
    assert history_pages(log) == pages
    assert len(table_rows((tmp_path / "audit-prod.md").read_text(), "## Timeline of updates")) == 7


def test_history_paging_has_a_ceiling(tmp_path, monkeypatch, capsys):
    fake, log = fake_cli(tmp_path)
    monkeypatch.setattr(sources, "HISTORY_PAGE_SIZE", 1)
    monkeypatch.setattr(sources, "MAX_HISTORY_PAGES", 4)
    assert main(["--stack", "prod", "--pulumi", str(fake), "--out", str(tmp_path / "out")]) == 2
    assert history_pages(log) == ["1", "2", "3", "4"]
    assert capsys.readouterr().err == (
        "audit: error: pulumi stack history has more than 4 pages of 1 updates; record "
        "it with `pulumi stack history --json --show-secrets=false` and pass "
        "--history FILE --export FILE\n"
    )
    assert not (tmp_path / "out").exists()


def test_inputs_read_from_the_cli_are_listed_by_command_with_the_sha256_of_what_it_printed(tmp_path, monkeypatch):
    fake, _ = fake_cli(tmp_path)
    monkeypatch.setattr(sources, "HISTORY_PAGE_SIZE", 3)
    assert main(["--stack", "prod", "--pulumi", str(fake), "--out", str(tmp_path)]) == 0
    rows = table_rows((tmp_path / "audit-prod.md").read_text(), "_Inputs the report was made from")
    history = json.loads(HISTORY.read_text())
    printed = [json.dumps(history[start : start + 3]) + "\n" for start in (0, 3, 6)] + [EXPORT.read_text() + "\n"]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("Pulumi CLI", str(len(p.encode())), hashlib.sha256(p.encode()).hexdigest()) for p in printed
    ]
    assert rows[0][1] == escape(
        f"{fake} stack history --json --show-secrets=false --stack prod --page-size 3 --page 1 --non-interactive"
    )
    assert rows[3][1] == escape(f"{fake} stack export --stack prod --non-interactive")


def test_an_export_of_another_stack_from_the_cli_is_refused(tmp_path, capsys):
    fake, _ = fake_cli(tmp_path)  # prints the prod export whichever stack it is asked for
    assert main(["--stack", "dev", "--pulumi", str(fake), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "audit: error: pulumi stack export: state of stack 'prod' (deployment.resources[0].urn), not of --stack 'dev'\n"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "stack, error",
    [
        ("acme/mlops-platform/prod", None),
        ("acme/prod", None),
        (
            "acme/other-project/prod",
            (
                "state of project 'mlops-platform' (deployment.resources[0].urn), "
                "not of --stack 'acme/other-project/prod'"
            ),
        ),
        (
            "acme/mlops-platform/dev",
            "state of stack 'prod' (deployment.resources[0].urn), not of --stack 'acme/mlops-platform/dev'",
        ),
    ],
)
def test_a_qualified_stack_name_is_checked_against_the_urns(tmp_path, capsys, stack, error):
    """URNs carry the stack's short name and the project: org/project/stack is checked on both."""
    code = main(["--stack", stack, "--history", str(HISTORY), "--export", str(EXPORT), "--out", str(tmp_path)])
    if error is None:
        assert code == 0 and (tmp_path / f"audit-{stack.replace('/', '_')}.md").is_file()
    else:
        assert code == 2
        assert capsys.readouterr().err == f"audit: error: --export {str(EXPORT)!r}: {error}\n"


def test_a_failing_cli_is_reported(tmp_path, capsys):
    fake = tmp_path / "pulumi"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stderr.write('error: no stack named prod found')\nsys.exit(255)\n"
    )
    fake.chmod(0o755)
    assert main(["--stack", "prod", "--pulumi", str(fake), "--out", str(tmp_path)]) == 2
    assert "no stack named prod found" in capsys.readouterr().err


def test_module_entry_point_writes_both_reports(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.audit",
            "--stack",
            "prod",
            "--history",
            str(HISTORY),
            "--export",
            str(EXPORT),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "audit-prod.md").read_text().startswith("# Audit of stack prod")
    assert (tmp_path / "audit-prod.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    "used, expected",
    [
        (0, "whole report"),
        (1024 * 1024 - 3000, "summary and link"),
        (1024 * 1024 - 700, "title and link"),
        (1024 * 1024 - 10, "nothing"),
    ],
)
def test_the_step_summary_takes_only_the_room_githubs_1_mib_leaves(tmp_path, used, expected):
    summary = tmp_path / "summary.md"
    summary.write_text("x" * used)
    assert (
        main(
            [
                "--stack",
                "prod",
                "--history",
                str(HISTORY),
                "--export",
                str(EXPORT),
                "--out",
                str(tmp_path),
                "--step-summary",
                str(summary),
                "--report-url",
                "https://ci.example/runs/9",
            ]
        )
        == 0
    )
    added = summary.read_text()[used:]
    assert summary.stat().st_size <= 1024 * 1024
    link = "[audit-prod.md and audit-prod.html in the run's artifacts](https://ci.example/runs/9)"
    if expected == "whole report":
        assert added == (tmp_path / "audit-prod.md").read_text()
    elif expected == "nothing":
        assert added == ""
    else:
        assert added.startswith("# Audit of stack prod") and link in added and "## Timeline" not in added
        assert ("## Summary" in added) == (expected == "summary and link")


def test_reports_are_written_whole_or_not_at_all(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert (
        main(["--stack", "prod", "--history", str(HISTORY), "--export", str(EXPORT), "--out", str(blocker / "out")])
        == 2
    )
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("audit: error: cannot write the reports") and str(blocker) in line
    staged_html = tmp_path / "out" / f".audit-prod.html.{os.getpid()}.tmp"
    staged_html.mkdir(parents=True)  # the second report cannot be written: the first is not moved into place either
    assert (
        main(["--stack", "prod", "--history", str(HISTORY), "--export", str(EXPORT), "--out", str(tmp_path / "out")])
        == 2
    )
    assert [p.name for p in (tmp_path / "out").iterdir()] == [staged_html.name], "no report, no temporary file"


def test_the_registry_stack_has_an_audit_report_without_releases(tmp_path):
    """pulumi-stack.yml writes the report after every `up`, the registry stack's included: a stack with no
    workspace, no release and no champion, recorded here from its offline plan in the CLI's formats."""
    from scripts.offline.stack import run_stack, stack_config

    plan = run_stack("registry")
    prefix = "urn:pulumi:registry::mlops-platform::"
    stack_urn = f"{prefix}pulumi:pulumi:Stack::mlops-platform-registry"
    by_name = {r.name: r for r in plan.resources}

    def urn(resource):
        chain = [resource.type]
        parent = by_name.get(resource.parent)
        while parent is not None:
            chain.insert(0, parent.type)
            parent = by_name.get(parent.parent)
        return f"{prefix}{'$'.join(chain)}::{resource.name}"

    export = {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-02T09:00:00.000Z", "magic": "abc", "version": "v3.272.0"},
            "resources": [{"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": plan.outputs}]
            + [
                {
                    "urn": urn(r),
                    "custom": r.custom,
                    "type": r.type,
                    "inputs": r.inputs,
                    "outputs": r.inputs,
                    "parent": urn(by_name[r.parent]) if r.parent else stack_urn,
                    **({"protect": True} if r.protect else {}),
                }
                for r in plan.resources
            ],
        },
    }
    config = {
        key: {"value": value if isinstance(value, str) else json.dumps(value), "secret": False}
        for key, value in stack_config("registry").items()
    }
    history = [
        {
            "version": 1,
            "kind": "update",
            "startTime": "2026-11-02 08:55:00 +0000 UTC",
            "endTime": "2026-11-02 09:00:00 +0000 UTC",
            "message": "deploy up at 1111111",
            "environment": {"git.head": "1" * 40, "git.author": "Ana Lima", "exec.kind": "cli"},
            "config": config,
            "result": "succeeded",
            "resourceChanges": {"create": len(plan.resources) + 1},
        }
    ]
    (tmp_path / "history.json").write_text(json.dumps(history))
    (tmp_path / "export.json").write_text(json.dumps(export))
    code = main(
        [
            "--stack",
            "registry",
            "--history",
            str(tmp_path / "history.json"),
            "--export",
            str(tmp_path / "export.json"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    markdown = (tmp_path / "out" / "audit-registry.md").read_text()
    assert "mlreg-mlops-a1" in markdown, "the stack outputs name the registry"
    assert "Ana Lima" in markdown and "hatespeech" not in markdown
    assert (tmp_path / "out" / "audit-registry.html").is_file()


def test_a_registry_share_is_not_listed_as_one_of_the_stacks_model_versions():
    """A test stack's state holds the RegistryModelVersion it shared (outputs content_sha256 and version too):
    the report's model versions are the stack's own, whose stage tags are that environment's."""
    from scripts.audit.releases import StateResource, release_state

    common = {"content_sha256": "0a" * 32, "version": "0a0a0a0a0a0a", "model_name": "hate-speech-pt"}
    shared = StateResource(
        "urn:shared",
        "pulumi-python:dynamic/release:RegistryModelVersion",
        "hatespeech-registry-version",
        {},
        {**common, "registry_model_id": "azureml://registries/r/models/hate-speech-pt/versions/0a0a0a0a0a0a"},
        None,
    )
    own = StateResource(
        "urn:own",
        "pulumi-python:dynamic/release:ModelVersion",
        "hatespeech-version",
        {},
        {**common, "stage": "production", "archived": False},
        None,
    )
    _, versions, _ = release_state([shared, own])
    assert [(v.name, v.stage) for v in versions] == [("hatespeech-version", "production")]
