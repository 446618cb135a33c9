"""Markdown rendering. Every text is escaped, so nothing from the stack's state becomes markup."""

from __future__ import annotations

import re
from urllib.parse import quote

from .document import Document, Link, Section, Strong, Table

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~&])")


def escape(value: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _cell(cell) -> str:
    if isinstance(cell, Link):
        return f"[{escape(cell.text)}]({quote(cell.url, safe=':/?#=&%.-_~@+,;')})"
    if isinstance(cell, Strong):
        return f"**{escape(cell.text)}**"
    return escape(cell)


def _table(table: Table) -> list[str]:
    lines = [f"_{escape(table.caption)}_", ""] if table.caption else []
    if not table.rows:
        return lines + ["_none_", ""]
    lines.append("| " + " | ".join(escape(h) for h in table.headers) + " |")
    lines.append("|" + "---|" * len(table.headers))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines + [""]


def _section(section: Section, depth: int) -> list[str]:
    lines = [f"{'#' * depth} {escape(section.title)}", ""]
    for block in section.blocks:
        if isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, Section):
            lines += _section(block, depth + 1)
        else:
            lines += [escape(block), ""]
    return lines


def render_markdown(document: Document) -> str:
    lines = [f"# {escape(document.title)}", ""]
    for section in document.sections:
        lines += _section(section, 2)
    return "\n".join(lines).rstrip() + "\n"
