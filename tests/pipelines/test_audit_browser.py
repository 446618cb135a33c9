"""The HTML audit report in a real browser: headless Chromium (Debian's `chromium`, which
./scripts/setup installs when it is missing) opens the page; the test reads the DOM Chromium built
(`--dump-dom`) and the console messages it logged (`--enable-logging=stderr --v=0` writes each as a
`:CONSOLE:<line>] "<message>"` line, script errors and Content-Security-Policy refusals alike)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scripts.audit.cli import main
from tests.pipelines.conftest import FIXTURES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed and could not be: ./scripts/setup "
    "installs Debian's chromium with apt-get when it can",
)
CONSOLE = re.compile(r':CONSOLE(?:\(\d+\)|:\d+)\] "(.*)", source: ')
SECTIONS = ["Summary", "Timeline of updates", "Model releases", "Configuration changes", "Destroyed and deleted"]


def open_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM Chromium built from the page, and the console messages it logged while loading it.
    --no-sandbox: Chromium's sandbox refuses to start as root, as tests run in containers."""
    completed = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout, CONSOLE.findall(completed.stderr)


class Page(HTMLParser):
    """What a reader sees of the DOM: section headings, and each table's caption, header and rows."""

    def __init__(self, dom: str):
        super().__init__()
        self.headings: list[str] = []
        self.tables: list[dict] = []
        self.scripts = 0
        self._text: list[str] | None = None
        self._row: list | None = None
        self._row_class = ""
        self._in_head = False
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        elif tag == "table":
            self.tables.append({"caption": "", "headers": [], "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row, self._row_class = [], dict(attrs).get("class") or ""
        if tag in ("h2", "caption", "th", "td"):
            self._text = []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("h2", "caption", "th", "td") and self._text is not None:
            content, self._text = "".join(self._text).strip(), None
            if tag == "h2":
                self.headings.append(content)
            elif tag == "caption":
                self.tables[-1]["caption"] = content
            else:
                self._row.append(content)
        elif tag == "thead":
            self._in_head = False
        elif tag == "tr" and self._row is not None:
            if self._in_head:
                self.tables[-1]["headers"] = self._row
            else:
                self.tables[-1]["rows"].append((self._row_class, self._row))
            self._row = None


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit-browser")
    assert (
        main(
            [
                "--stack",
                "prod",
                "--history",
                str(FIXTURES / "prod-history.json"),
                "--export",
                str(FIXTURES / "prod-export.json"),
                "--previous-export",
                str(FIXTURES / "prod-export-before-v6.json"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out / "audit-prod.html"


@pytest.fixture(scope="module")
def shown(report, tmp_path_factory) -> tuple[Page, list[str]]:
    dom, console = open_in_chromium(report, tmp_path_factory.mktemp("chromium-profile"))
    return Page(dom), console


def test_chromium_shows_the_report_without_a_console_message(shown):
    """The report has no script: any console message is an error or a refusal by the page's policy."""
    page, console = shown
    assert console == []
    assert page.scripts == 0


def test_chromium_shows_every_section_and_table(shown, report):
    page, _ = shown
    assert page.headings == SECTIONS
    assert len(page.tables) == report.read_text().count("<table>")
    captions = [t["caption"] for t in page.tables]
    for caption in (
        "Current champion per workspace",
        "Inputs the report was made from",
        "Champion/challenger decisions",
        "Traffic (before",
        "Registered model versions",
        "Updates that deleted or replaced resources",
    ):
        assert any(c.startswith(caption) for c in captions), caption
    timeline = next(t for t in page.tables if t["headers"][:2] == ["Version", "Kind"])
    assert [row[0] for _, row in timeline["rows"]] == ["7", "6", "5", "4", "3", "2", "1"]
    assert [row[0] for css, row in timeline["rows"] if css == "attention"] == ["7", "2"]  # the failed ones


def test_chromium_shows_text_from_the_stack_as_text(shown):
    """The history's message `<script>alert('x')</script>` is shown as written, not run."""
    page, _ = shown
    timeline = next(t for t in page.tables if t["headers"][:2] == ["Version", "Kind"])
    [failed] = [row for _, row in timeline["rows"] if row[0] == "2"]
    assert failed[-1] == "<script>alert('x')</script> | open SSH on the cluster"


@pytest.mark.parametrize(
    "body, message",
    [
        ("<script>undefinedFunction()</script>", "Uncaught ReferenceError: undefinedFunction is not defined"),
        (
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'"><script>1</script>',
            "Content Security Policy",
        ),
    ],
)
def test_the_console_check_sees_script_errors_and_policy_refusals(tmp_path, body, message):
    """The check above can fail: on a page with a script error or a refused script, Chromium logs it."""
    page = tmp_path / "page.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>')
    _, console = open_in_chromium(page, tmp_path / "profile")
    assert any(message in line for line in console), console
