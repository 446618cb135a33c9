"""The report as a CI step summary, within GitHub's limit.

GitHub limits each step's summary to 1 MiB and drops a larger one whole, with the annotation
"$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k" (docs: "Workflow
commands", "Step isolation and limits"). A report that fits is written whole; a larger one as its summary section and a link to
the full report; if even that does not fit, as its title and the link.
"""

from __future__ import annotations

from pathlib import Path

from .document import Document, Section, Table, link
from .render_markdown import render_markdown

STEP_SUMMARY_LIMIT = 1024 * 1024


def _pointer(report_size: int, report_names: str, report_url: str | None) -> Section:
    where = (
        link(f"{report_names} in the run's artifacts", report_url)
        if report_url
        else f"{report_names} in the run's artifacts"
    )
    return Section(
        "Full report",
        [
            f"The full report is {report_size / 1024 / 1024:.1f} MiB, more than a step summary may hold "
            f"({STEP_SUMMARY_LIMIT // 1024 // 1024} MiB); this is its summary.",
            Table(["Full report"], [[where]]),
        ],
    )


def bounded_summary(
    document: Document, markdown: str, report_names: str, report_url: str | None, room: int = STEP_SUMMARY_LIMIT
) -> str:
    """`markdown` (the rendered document) if it fits in `room` bytes, else a shorter stand-in."""
    size = len(markdown.encode("utf-8"))
    if size <= room:
        return markdown
    pointer = _pointer(size, report_names, report_url)
    for sections in (document.sections[:1] + [pointer], [pointer]):  # the first section is the summary
        shorter = render_markdown(Document(document.title, sections))
        if len(shorter.encode("utf-8")) <= room:
            return shorter
    return ""


def append_step_summary(
    path: Path, document: Document, markdown: str, report_names: str, report_url: str | None
) -> None:
    """Appends the bounded summary to `path` (GitHub's $GITHUB_STEP_SUMMARY may already hold text)."""
    used = path.stat().st_size if path.is_file() else 0
    text = bounded_summary(document, markdown, report_names, report_url, STEP_SUMMARY_LIMIT - used)
    with path.open("a", encoding="utf-8") as summary:
        summary.write(text)
