"""The README and docs/ link to files and headings that exist (issue 18 item 6 moved the model experiment
log out of the README; its links and the anchors into the README must still resolve)."""

import re
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces as -, -1, -2 for repeats."""
    found: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"#{1,6} (.+)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            repeat, unique = 0, slug
            while unique in found:
                repeat += 1
                unique = f"{slug}-{repeat}"
            found.add(unique)
    return found


def test_anchors_follow_github_rules():
    assert anchors("# Known limits\n## CI: previews on pull requests\n```\n# not a heading\n```\n## Known limits") == {
        "known-limits",
        "ci-previews-on-pull-requests",
        "known-limits-1",
    }


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(document: Path):
    broken = []
    for link in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", link):  # https:, mailto:
            continue
        path, _, anchor = link.partition("#")
        target = (document.parent / path).resolve() if path else document
        if not target.exists():
            broken.append(f"{link}: no file {target}")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target.read_text(encoding="utf-8")):
            broken.append(f"{link}: no heading #{anchor} in {target.name}")
    assert not broken, broken


def test_the_readme_links_the_model_experiment_log():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "[docs/model-experiments.md](docs/model-experiments.md)" in readme
    assert (
        "A third round" not in readme and "A third round" in (REPO_ROOT / "docs" / "model-experiments.md").read_text()
    )
