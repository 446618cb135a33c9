"""HTML rendering: one self-contained page; every text and attribute is escaped, and the page's
Content-Security-Policy allows its own inline style and nothing else (no script, image or request),
so even a value that escaped the escaping could not run."""

from __future__ import annotations

from html import escape

from .document import Document, Link, Section, Strong, Table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
caption { text-align: left; font-style: italic; padding-bottom: 0.3rem; }
td.word { white-space: nowrap; }
tr.attention td { background: #fdecea; }
strong { color: #a4000f; }
"""
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
WORD_LENGTH = 40  # cells of one word up to this long (times, versions, names) are not broken at their hyphens


def _cell(cell) -> str:
    if isinstance(cell, Link):
        return f'<a href="{escape(cell.url, quote=True)}">{escape(cell.text)}</a>'
    if isinstance(cell, Strong):
        return f"<strong>{escape(cell.text)}</strong>"
    return escape(cell)


def _td(cell) -> str:
    words = (cell if isinstance(cell, str) else cell.text).split()
    one_word = len(words) == 1 and len(words[0]) <= WORD_LENGTH
    return ('<td class="word">' if one_word else "<td>") + _cell(cell) + "</td>"


def _row(row: list) -> str:
    marked = ' class="attention"' if any(isinstance(cell, Strong) for cell in row) else ""
    return f"<tr{marked}>" + "".join(_td(c) for c in row) + "</tr>"


def _table(table: Table) -> str:
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    if not table.rows:
        return f"<table>{caption}<tr><td><em>none</em></td></tr></table>"
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join(_row(row) for row in table.rows)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(section: Section, depth: int) -> str:
    parts = [f"<h{depth}>{escape(section.title)}</h{depth}>"]
    for block in section.blocks:
        if isinstance(block, Table):
            parts.append(_table(block))
        elif isinstance(block, Section):
            parts.append(_section(block, min(depth + 1, 6)))
        else:
            parts.append(f"<p>{escape(block)}</p>")
    return "<section>" + "\n".join(parts) + "</section>"


def render_html(document: Document) -> str:
    sections = "\n".join(_section(s, 2) for s in document.sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>{escape(document.title)}</title><style>{STYLE}</style></head>\n"
        f"<body><h1>{escape(document.title)}</h1>\n{sections}\n</body></html>\n"
    )
