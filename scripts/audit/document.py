"""A report as plain sections, paragraphs and tables, rendered to Markdown and HTML alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Strong:
    """Text the reader must not miss (a failed update, a destroy); its table row is marked too."""

    text: str


Cell = str | Link | Strong


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Section:
    title: str
    blocks: list[str | Table | Section] = field(default_factory=list)

    def add(self, block: str | Table | Section) -> Section:
        self.blocks.append(block)
        return self


@dataclass
class Document:
    title: str
    sections: list[Section]


def text(value: Any) -> str:
    """A value as one line of text; objects and arrays as `key: value, key: value` and `a, b`, with
    nested ones in parentheses, and empty ones as "none"."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return _items(value) or "none"
    return " ".join(str(value).split())


def _items(value: dict | list) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{text(key)}: {_nested(item)}" for key, item in sorted(value.items()))
    return ", ".join(_nested(item) for item in value)


def _nested(item: Any) -> str:
    return f"({_items(item) or 'none'})" if isinstance(item, (dict, list)) else text(item)


def strong(value: Any) -> Strong:
    return Strong(text(value))


def link(label: Any, url: str) -> Cell:
    """A link when the URL is http(s), plain text otherwise (never a javascript: or data: URL)."""
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url):
        return Link(text(label), url)
    return text(label)
