"""Offline preview of a stack: its resources as a tree or JSON, and diffs between plans."""
