"""Nesting each workspace under its estate keeps every resource of a stack deployed before.

Such a stack holds the workspace components at its root. A resource's URN carries the types of all
its parents, so without aliases the engine would take each component and every resource below it
as new: create them, then delete the old ones (the workspace, its clusters, the endpoint). The SDK's
mock monitor applies neither the engine's URN rule nor its alias rules, so this models them, from
pulumi/pulumi pkg/resource/deploy: `Deployment.generateURN` (the parent's full qualified type, the
root stack left out), `stepGenerator.generateSteps` (the URN first, then each alias, against the old
state), `generateAliases` (a parent matched through an alias gives each child an inherited alias),
`collapseAliasToUrn` and `inheritedChildAlias`.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.infra.conftest import STACKS

PROJECT = "mlops-platform"
ESTATE = "mlops:stacks:WorkspaceEstate"
ROOT_STACK = "pulumi:pulumi:Stack"


def qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def urn_of(stack: str, parent: str, type_: str, name: str) -> str:
    prefix = f"{qualified_type(parent)}$" if parent and qualified_type(parent) != ROOT_STACK else ""
    return f"urn:pulumi:{stack}::{PROJECT}::{prefix}{type_}::{name}"


def state_before_estates(plan) -> dict[str, str]:
    """Logical name -> URN of each resource in the same tree with the estates left out (their
    children at the root), as stacks deployed before them hold it."""
    types = {r.name: r.type for r in plan.resources}
    urns: dict[str, str] = {}
    for resource in plan.resources:
        parent = resource.parent
        while parent is not None and types[parent] == ESTATE:
            parent = next(r.parent for r in plan.resources if r.name == parent)
        urns[resource.name] = urn_of(plan.stack, urns.get(parent, ""), resource.type, resource.name)
    return {name: urn for name, urn in urns.items() if types[name] != ESTATE}


def engine_matches(plan, olds: set[str]) -> dict[str, str | None]:
    """Logical name -> the old URN the engine finds each registration under (None: a create)."""
    stack = plan.stack
    urns: dict[str, str] = {}
    found_via_alias: dict[str, str] = {}  # new URN -> old URN
    matches: dict[str, str | None] = {}

    def collapse(alias: dict, resource, parent: str) -> str:
        if "urn" in alias:
            return alias["urn"]
        spec = alias["spec"]
        alias_parent = parent
        if spec.get("parentUrn"):
            alias_parent = found_via_alias.get(spec["parentUrn"], spec["parentUrn"])
        if spec.get("noParent"):
            alias_parent = ""
        return urn_of(
            spec.get("stack") or stack,
            alias_parent,
            spec.get("type") or resource.type,
            spec.get("name") or resource.name,
        )

    def inherited(child_urn: str, parent_name: str, parent_alias: str) -> str:
        child_type, child_name = qualified_type(child_urn).split("$")[-1], child_urn.split("::")[-1]
        if child_name.startswith(parent_name):
            child_name = parent_alias.split("::")[-1] + child_name[len(parent_name) :]
        return f"urn:pulumi:{stack}::{PROJECT}::{qualified_type(parent_alias)}${child_type}::{child_name}"

    for resource in plan.resources:
        parent = urns.get(resource.parent, "") if resource.parent else ""
        urn = urns[resource.name] = urn_of(stack, parent, resource.type, resource.name)
        aliases = [collapse(alias, resource, parent) for alias in resource.aliases]
        if parent in found_via_alias:
            aliases += [inherited(candidate, resource.parent, found_via_alias[parent]) for candidate in (urn, *aliases)]
        old = next((candidate for candidate in (urn, *aliases) if candidate in olds), None)
        if old is not None and old != urn:
            found_via_alias[urn] = old
        matches[resource.name] = old
    return matches


def added_since_the_estates(plan) -> set[str]:
    """Resources that came after the estates (the data-plane role assignments): new in any older state."""
    components = {r.name for r in plan.resources if r.type == "mlops:infra:DataAccess"}
    return components | {r.name for r in plan.resources if r.parent in components}


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_of_a_stack_deployed_before_the_estates_is_kept(released_plans, stack):
    plan = released_plans[stack]
    added = added_since_the_estates(plan)
    before = {name: urn for name, urn in state_before_estates(plan).items() if name not in added}
    matches = engine_matches(plan, set(before.values()))
    assert {name: matches[name] for name in before} == before, "each resource found under its old URN"
    assert {name for name, old in matches.items() if old is None} == {"hatespeech-estate", *added}, (
        "only the estate (and what came after it) is new"
    )


def test_without_the_aliases_the_workspace_and_everything_below_it_would_be_replaced(released_plans):
    plan = released_plans["dev"]
    before = state_before_estates(plan)
    unaliased = dataclasses.replace(
        plan,
        resources=[
            dataclasses.replace(r, aliases=()) if r.parent == "hatespeech-estate" else r for r in plan.resources
        ],
    )
    matches = engine_matches(unaliased, set(before.values()))
    lost = {name for name, old in matches.items() if old is None}
    assert {
        "hatespeech",
        "hatespeech-workspace",
        "hatespeech-compute-gpu-cluster",
        "hatespeech-endpoint-online",
        "hatespeech-version",
        "hatespeech-release",
    } <= lost
    assert {"shared", "key-vault", "access"}.isdisjoint(lost)
