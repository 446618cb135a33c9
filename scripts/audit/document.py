"""A report as plain sections, paragraphs and tables, rendered to Markdown and HTML alike."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Link:
    text: str
    url: str


Cell = Union[str, Link]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Section:
    title: str
    blocks: list[Union[str, Table, "Section"]] = field(default_factory=list)

    def add(self, block: Union[str, Table, "Section"]) -> "Section":
        self.blocks.append(block)
        return self


@dataclass
class Document:
    title: str
    sections: list[Section]


def text(value: Any) -> str:
    """A value as one line of text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return " ".join(str(value).split())


def link(label: Any, url: str) -> Cell:
    """A link when the URL is http(s), plain text otherwise (never a javascript: or data: URL)."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url):
        return Link(text(label), url)
    return text(label)
