"""Command line: python -m scripts.audit --stack prod [--history F --export F] [--out DIR]."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from .build import build_report
from .history import parse_history
from .render_html import render_html
from .render_markdown import render_markdown
from .sources import SourceError, check_export, checked, export_from_cli, history_from_cli, load_json
from .step_summary import append_step_summary

STACK_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,100}$")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.audit",
        description="Write a Markdown and an HTML audit report of a stack's history and state.",
    )
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument("--history", help="JSON from `pulumi stack history --json --show-secrets=false`")
    parser.add_argument("--export", help="JSON from `pulumi stack export`")
    parser.add_argument("--previous-export", help="an older `pulumi stack export`, to list resources gone since")
    parser.add_argument("--cwd", help="the Pulumi project directory, when reading from the CLI")
    parser.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI to run (default: pulumi)")
    parser.add_argument("--out", default="out/audit", help="directory for the reports (default: out/audit)")
    parser.add_argument(
        "--step-summary",
        metavar="FILE",
        help="also append the Markdown to FILE (e.g. $GITHUB_STEP_SUMMARY), cut to its summary "
        "and a link to the full report when it would pass GitHub's 1 MiB limit",
    )
    parser.add_argument(
        "--report-url",
        metavar="URL",
        help="where the full report can be found (the CI run's artifacts), linked from a cut summary",
    )
    args = parser.parse_args(argv)
    if not STACK_NAME.match(args.stack):
        parser.error(f"--stack {args.stack!r} is not a stack name; expected letters, digits, '-', '_', '.' or '/'")
    if (args.history is None) != (args.export is None):
        parser.error("--history and --export go together: give both files, or neither to read from the Pulumi CLI")
    return args


def read_sources(args: argparse.Namespace):
    """The updates, the export, the previous export (or None) and a record of each input read."""
    if args.history is not None:
        history, history_input = load_json(args.history, "--history", "history")
        updates = checked(f"--history {args.history!r}", parse_history, history)
        export, export_input = load_json(args.export, "--export")
        export = check_export(export, f"--export {args.export!r}", args.stack)
        inputs = [history_input, export_input]
    else:
        history, inputs = history_from_cli(args.stack, args.cwd, args.pulumi)
        updates = checked("pulumi stack history", parse_history, history)
        export, export_input = export_from_cli(args.stack, args.cwd, args.pulumi)
        inputs.append(export_input)
    previous = None
    if args.previous_export:
        previous, previous_input = load_json(args.previous_export, "--previous-export")
        previous = check_export(previous, f"--previous-export {args.previous_export!r}", args.stack)
        inputs.append(previous_input)
    return updates, export, previous, inputs


def write_files(files: dict[Path, str]) -> None:
    """Writes every file or none: each goes to a temporary name beside it, then all are moved into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            staged.append((temporary, path))
            temporary.write_text(content, encoding="utf-8")
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        updates, export, previous, inputs = read_sources(args)
    except SourceError as error:
        print(f"audit: error: {error}", file=sys.stderr)
        return 2
    document = build_report(args.stack, updates, export, inputs, previous, generated=datetime.now(UTC))
    markdown_text = render_markdown(document)
    out = Path(args.out)
    safe = args.stack.replace("/", "_")
    markdown, html = out / f"audit-{safe}.md", out / f"audit-{safe}.html"
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_files({markdown: markdown_text, html: render_html(document)})
        if args.step_summary:
            append_step_summary(
                Path(args.step_summary), document, markdown_text, f"{markdown.name} and {html.name}", args.report_url
            )
    except OSError as error:
        print(f"audit: error: cannot write the reports ({error.filename or out}): {error.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {markdown} and {html}")
    return 0
