"""The plan diff as a pull-request reader sees it: long values whose difference stays visible, nested
values as YAML text, and `ignoreChanges` as the engine applies it (pulumi/pulumi
`pkg/resource/deploy/step_generator.go` processIgnoreChanges and `sdk/go/common/resource/properties_path.go`
PropertyPath.reset: the ignored path of the new inputs is reset to the old stored value, never adding or
removing list elements)."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from scripts.plan.diff import diff_plans, elide_shared_start, render_markdown
from scripts.plan.ignore_changes import effective_inputs, parse_path, path_text
from scripts.plan.tree import render_tree

TYPE = "pulumi-python:dynamic/release:EndpointTraffic"
MODEL = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-prod/providers/"
    "Microsoft.MachineLearningServices/workspaces/mlw-mlops-hatespeech-prod-c1/models/hate-speech-pt/versions/"
)


def plan(*resources):
    return {"stack": "dev", "resources": list(resources), "outputs": {}}


def resource(inputs, name="traffic", ignore=(), type_=TYPE):
    return {"type": type_, "name": name, "parent": None, "inputs": inputs, "ignoreChanges": list(ignore)}


def rows(markdown: str) -> dict[str, tuple[str, str]]:
    """{input cell: (before cell, after cell)} of every change table row."""
    found = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[0] not in ("input", "---", "type") and not cells[0].startswith("`azure"):
            found[cells[0]] = (cells[1], cells[2])
    return found


def test_two_long_model_ids_that_differ_only_at_the_end_print_differently():
    base = plan(resource({"model": MODEL + "bootstrap"}))
    head = plan(resource({"model": MODEL + "7c8e4d1a9b2f"}))
    before, after = rows(render_markdown(diff_plans(base, head), "t"))["`model`"]
    assert len(MODEL) > 120 and before != after
    assert before == "`…/versions/bootstrap`" and after == "`…/versions/7c8e4d1a9b2f`", (
        "the shared start is elided at a path break; the differing tail is kept whole"
    )


def test_values_are_never_cut_whatever_their_length():
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"  # no break to elide at: both shown whole
    tail_only = "/subscriptions/s/" + "segment/" * 40 + "end"
    markdown = render_markdown(
        diff_plans(plan(resource({"v": long_a, "w": None})), plan(resource({"v": long_b, "w": tail_only}))), "t"
    )
    found = rows(markdown)
    assert found["`v`"] == (f"`{long_a}`", f"`{long_b}`")
    assert found["`w`"] == ("_(unset)_", f"`{tail_only}`"), "a value without a counterpart is shown whole"


def test_elision_keeps_the_last_shared_segment_and_leaves_short_values_whole():
    assert elide_shared_start("Standard_DS3_v2", "Standard_F4s_v2") == ("Standard_DS3_v2", "Standard_F4s_v2")
    scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-"
    assert elide_shared_start(scope + "dev", scope + "prod") == ("…/rg-mlops-dev", "…/rg-mlops-prod")


def test_nested_and_special_values_read_as_yaml_text_not_python_reprs():
    base = plan(resource({"flag": True, "rules": [], "note": None, "pipe": "a|b", "tick": "x`y"}))
    head = plan(
        resource(
            {"flag": False, "rules": [{"kind": "mirror", "percent": 10.0}], "pipe": "a|c", "tick": "x`z", "empty": {}}
        )
    )
    markdown = render_markdown(diff_plans(base, head), "t")
    found = rows(markdown)
    assert found["`flag`"] == ("`true`", "`false`")
    assert found["`rules`"] == ("`[]`", "_(unset)_") and found["`rules[0].percent`"] == ("_(unset)_", "`10`")
    assert found["`empty`"] == ("_(unset)_", "`{}`")
    assert found["`pipe`"] == ("`a\\|b`", "`a\\|c`"), "a pipe does not split the table cell"
    assert found["`tick`"] == ("`` x`y ``", "`` x`z ``"), "a backtick does not end the code span"
    assert not re.search(r"True|False|None|\{'", markdown)


def test_the_tree_shows_outputs_and_nested_settings_as_yaml(plans):
    tree_text = render_tree(plans["prod"].to_json())
    outputs = tree_text.split("\noutputs:\n", 1)[1]
    assert yaml.safe_load(outputs) == plans["prod"].outputs, "the outputs block is YAML of the stack outputs"
    assert "{'" not in tree_text and "': " not in tree_text


def test_a_resource_whose_only_changes_are_ignored_is_not_counted():
    base = plan(resource({"properties": {"traffic": {"blue": 100.0}}, "name": "ep"}))
    head = plan(resource({"properties": {"traffic": {"green": 100.0}}, "name": "ep"}, ignore=["properties.traffic"]))
    markdown = render_markdown(diff_plans(base, head), "t")
    assert "**0 to add, 0 to change, 0 to remove** · 1 with ignored changes only, not updated" in markdown
    assert "#### Changed" not in markdown and "#### Ignored changes only" in markdown
    assert rows(markdown)["`properties.traffic.blue` _(ignored)_"] == ("`100`", "_(unset)_")
    assert "in the resource's `ignoreChanges`; `up` keeps the value it stored" in markdown


def test_an_ignored_change_beside_a_real_one_is_marked_and_the_resource_counted():
    base = plan(resource({"tags": {"cost-center": "a", "owner": "x"}}))
    head = plan(resource({"tags": {"cost-center": "b", "owner": "y"}}, ignore=['tags["cost-center"]']))
    diff = diff_plans(base, head)
    assert [(c.path, c.ignored) for _, changes in diff.changed for c in changes] == [
        ("tags.owner", False),
        ('tags["cost-center"]', True),
    ]
    assert "**0 to add, 1 to change, 0 to remove**\n" in render_markdown(diff, "t")


def test_ignoring_list_items_does_not_cover_items_the_list_gains():
    """PropertyPath.reset resets the elements both lists hold and cannot add or remove one: an added
    rule is sent, so the resource is updated."""
    base = plan(resource({"rules": [{"x": 1.0}]}))
    head = plan(resource({"rules": [{"x": 2.0}, {"x": 3.0}]}, ignore=["rules[*].x"]))
    diff = diff_plans(base, head)
    assert [(c.path, c.ignored) for _, changes in diff.changed for c in changes] == [
        ("rules[0].x", True),
        ("rules[1].x", False),
    ]


@pytest.mark.parametrize(
    "path, old, new, effective",
    [
        ("a", {"a": 1}, {"a": 2, "b": 3}, {"a": 1, "b": 3}),
        ("a", {}, {"a": 2}, {}),  # absent before: removed from the new inputs
        ("a.b", {"a": {"b": 1, "c": 1}}, {"a": {"b": 2, "c": 2}}, {"a": {"b": 1, "c": 2}}),
        ('a["b.c"]', {"a": {"b.c": 1}}, {"a": {"b.c": 2}}, {"a": {"b.c": 1}}),
        ("a[1]", {"a": [1, 2]}, {"a": [3, 4]}, {"a": [3, 2]}),
        ("a[2]", {"a": [1]}, {"a": [3, 4, 5]}, {"a": [3, 4, 5]}),  # no such old element: nothing to reset
        ("a.*", {"a": {"x": 1}}, {"a": {"x": 2, "y": 3}}, {"a": {"x": 1}}),
        ("*", {"a": 1}, {"a": 2, "b": 2}, {"a": 1}),
        ("a[", {"a": 1}, {"a": 2}, {"a": 2}),  # unparseable: skipped, as the engine does
        ("a[1_0]", {"a": 1}, {"a": 2}, {"a": 2}),
    ],
)
def test_effective_inputs_follow_the_engine_reset(path, old, new, effective):
    original = copy.deepcopy(new)
    assert effective_inputs(old, new, [path]) == effective
    assert new == original, "the plan's own inputs are not changed"


def test_paths_print_as_the_engine_parses_them():
    for text, printed in (
        ("a.b[0].c", "a.b[0].c"),
        ('tags["cost-center"]', 'tags["cost-center"]'),
        ('a["q\\"uote"][*]', 'a["q\\"uote"]["*"]'),
        ("list[*].x", 'list["*"].x'),
    ):
        assert path_text(parse_path(text)) == printed
    assert parse_path('a["b.c"][3].d') == ("a", "b.c", 3, "d")
    assert parse_path(".a") is None and parse_path('a["b') is None and parse_path("a[x]") is None
