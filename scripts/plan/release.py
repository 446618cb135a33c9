"""The offline release preview: what `up` would do with a stack's release candidate, checked early.

A plan with a candidate holds, per workspace, a ChampionSelection and an EndpointTraffic. Their
providers' `check` (run by the offline engine) only sees that the candidate folder holds
artifact.json and that the evaluation file exists; the comparison at `up` reads much more. This
preview checks offline what `up` would trip on, each as one problem naming the setting:
  * the candidate loads as the served classifier (`model.evaluate.load_classifier`, as
    `python -m model evaluate` and the comparison load it);
  * the evaluation data passes `model.data.load_dataset` (columns `text` and `hate`, 0/1 labels);
  * in a stack that requires approval, an `approvedVersion` that names another version than the
    candidate's, which `up` would ignore, only staging the candidate.
It then says in words what the traffic resource would do (`declared_state` and `plan_steps` of the
traffic provider decide it), and, given a local champion artifact (`--champion DIR`), runs the real
decision, `model.compare.compare` with the stack's settings, as the ChampionSelection provider runs
it at `up` against the version in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.release.champion_selection import CHALLENGER, ChampionSelectionProvider
from infra.release.content import content_sha256, is_remote, version_of
from infra.release.endpoint_traffic import EndpointTrafficProvider
from infra.release.traffic.release import declared_state
from infra.release.traffic.rollout import CANARY, FULL, MIRROR, plan_steps
from infra.release.values import UNKNOWN, is_unknown
from stacks.settings import PROJECT

UNKNOWN_VERSION = "<the version of the job's files, read at `pulumi preview`>"
SELECTION = "pulumi-python:dynamic/release:ChampionSelection"
TRAFFIC = "pulumi-python:dynamic/release:EndpointTraffic"


class ReleasePreviewError(ValueError):
    """What `up` would fail on, or a preview option that cannot be used with this plan."""


@dataclass(frozen=True)
class Release:
    workspace: str  # the workspace's name in the stack config
    config_path: str  # `workspaces[N].release`, as `pulumi config set --path` takes it
    selection_name: str
    traffic_name: str
    selection: dict[str, Any]  # the ChampionSelection's inputs as its provider's check reads them
    traffic: dict[str, Any]  # the EndpointTraffic's, with the serving version and checked rollout

    @property
    def candidate(self) -> str:
        return self.selection["challenger_path"]

    @property
    def version_known(self) -> bool:
        """False for a job output's version: the content of the files the job wrote, which only Azure ML has."""
        return not is_unknown(self.traffic["challenger_version"])

    @property
    def version(self) -> str:
        return self.traffic["challenger_version"] if self.version_known else UNKNOWN_VERSION

    def key(self, name: str) -> str:
        """A release setting's full config key, as the settings errors name it."""
        return f"{PROJECT}:{self.config_path}.{name}"


def _checked(provider, resource: dict[str, Any], **options) -> dict[str, Any]:
    known = {**resource["inputs"], **resource.get("checked", {})}
    checked, failures = provider.check_inputs(
        {**known, **dict.fromkeys(resource.get("unknown", ()), UNKNOWN)}, **options
    )
    if failures:  # the plan ran the same check, so this is a plan that was edited by hand
        raise ReleasePreviewError(f"{resource['name']}: " + "; ".join(reason for _, reason in failures))
    return checked


def releases_in(plan: dict[str, Any], config: dict[str, Any]) -> list[Release]:
    """The releases a plan declares, each tied to its workspace in the stack config."""
    by_parent: dict[str | None, dict[str, dict]] = {}
    for resource in plan["resources"]:
        if resource["type"] in (SELECTION, TRAFFIC):
            by_parent.setdefault(resource["parent"], {})[resource["type"]] = resource
    names = [w.get("name") for w in config.get(f"{PROJECT}:workspaces") or [] if isinstance(w, dict)]
    azure_names = {
        outputs.get("workspace_name"): name
        for name, outputs in (plan.get("outputs", {}).get("workspaces") or {}).items()
    }
    releases = []
    for pair in by_parent.values():
        if set(pair) != {SELECTION, TRAFFIC}:
            continue
        selection = _checked(ChampionSelectionProvider(), pair[SELECTION])
        traffic = _checked(EndpointTrafficProvider(), pair[TRAFFIC], previewing=True)
        workspace = azure_names.get(traffic["workspace_name"], traffic["workspace_name"])
        index = names.index(workspace) if workspace in names else None
        releases.append(
            Release(
                workspace,
                f"workspaces[{index}].release",
                pair[SELECTION]["name"],
                pair[TRAFFIC]["name"],
                selection,
                traffic,
            )
        )
    return sorted(releases, key=lambda r: r.workspace)


# ---------------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Evaluation:
    source: str
    rows: int
    hate: int


def check_release(release: Release) -> Evaluation:
    """What `up` would fail on, as one ReleasePreviewError listing every problem."""
    from model.data import DataError, load_dataset

    problems = []
    approved = release.traffic["approved_version"]
    if (
        release.traffic["require_approval"]
        and approved is not None
        and release.version_known
        and approved != release.version
    ):
        problems.append(
            f"{release.key('approvedVersion')} is {approved!r}, but the candidate is version {release.version}: "
            f"this stack requires approval, so `up` would ignore the approval and only stage {release.version}; "
            f"accepted: {release.version} (`python -m scripts.release_version {release.candidate}`), or no "
            "approvedVersion to stage the candidate until it is approved"
        )
    if not is_remote(release.candidate):
        problem = _artifact_problem(release.candidate, release.selection["compare_settings"].get("precision", "int8"))
        if problem:
            problems.append(f"{release.key('candidate')}: {problem}")
    evaluation = None
    try:
        dataset = load_dataset(release.selection["evaluation_data"])
        evaluation = Evaluation(dataset.source, len(dataset), int(dataset.labels.sum()))
    except DataError as error:
        problems.append(f"{release.key('evaluationData')}: {error}")
    if problems:
        raise ReleasePreviewError(
            f"the release in workspace {release.workspace} would fail at `up`: " + "; ".join(problems)
        )
    assert evaluation is not None  # it is None only after a DataError, which is one of the problems
    return evaluation


_ARTIFACT = "an artifact folder as `python -m model train` writes it"


def _artifact_problem(folder: str, precision: str) -> str | None:
    """Why `folder` is not a model the comparison can load, or None."""
    from model.evaluate import load_classifier

    try:
        load_classifier(folder, precision)
    except ValueError as error:  # serving's ArtifactError: names the file, mostly what is accepted too
        message = " ".join(str(error).split())
        return message if "accepted:" in message else f"{message}; accepted: {_ARTIFACT}"
    except Exception as error:  # a file its reader refuses that load_classifier could not name
        return (
            f"{folder} does not load as a model ({type(error).__name__}: {' '.join(str(error).split())[:300]}); "
            f"accepted: {_ARTIFACT}"
        )
    return None


# ---------------------------------------------------------------------------------- the decision
def decide_offline(release: Release, champion_dir: str) -> dict[str, Any]:
    """The ChampionSelection's decision with `champion_dir` as the version in production."""
    from model.compare import CompareSettings, compare

    champion = Path(champion_dir).expanduser()
    if not champion.is_dir():
        raise ReleasePreviewError(
            f"--champion {champion_dir}: no such folder; accepted: the local artifact folder of the model in production"
        )
    if is_remote(release.candidate):
        raise ReleasePreviewError(
            f"--champion: the candidate {release.candidate} is in Azure ML, so it cannot be "
            "scored offline; accepted: a local candidate folder"
        )
    problem = _artifact_problem(str(champion), release.selection["compare_settings"].get("precision", "int8"))
    if problem:
        raise ReleasePreviewError(f"--champion: {problem}")
    champion_version = version_of(content_sha256(str(champion.resolve())))
    base = {"champion_version": champion_version, "champion_dir": str(champion.resolve())}
    if champion_version == release.version:  # as the provider: nothing to compare with itself
        return {
            **base,
            "winner": CHALLENGER,
            "p_value": None,
            "compared": False,
            "reason": f"version {release.version} is already the production model",
        }
    result = compare(
        str(champion.resolve()),
        release.candidate,
        release.selection["evaluation_data"],
        CompareSettings(**release.selection["compare_settings"]),
    )
    return {**base, **result, "compared": True}


# ---------------------------------------------------------------------------------- words
def _percent(value) -> str:
    return f"{int(value)} %"


def rollout_words(traffic: dict[str, Any], has_previous: bool | None) -> str:
    """`mirror 10 % → canary 10 % → 50 % → 100 %, 300 s holds between steps`; `has_previous` None
    when it is not known whether a model is live (only `up` reads the registry)."""
    steps = plan_steps(traffic["rollout"], has_previous is not False)
    parts, canaries = [], 0
    for step in steps:
        if step["kind"] == MIRROR:
            parts.append(f"mirror {_percent(step['percent'])}")
        elif step["kind"] == CANARY:
            parts.append(("canary " if canaries == 0 else "") + _percent(step["percent"]))
            canaries += 1
        elif step["kind"] == FULL:
            parts.append("100 %")
    if len(steps) == 1:
        return "deployed to the idle slot, smoke-tested, then 100 % at once"
    words = "deployed to the idle slot, smoke-tested, then " + " → ".join(parts)
    if traffic["hold_seconds"]:
        words += f", {int(traffic['hold_seconds'])} s holds between steps"
    if has_previous is None:
        words += " (a first release, with no model live, goes to 100 % at once)"
    return words


def _approval_words(release: Release, stack: str) -> str:
    traffic, commands = release.traffic, []
    set_path = f"pulumi config set --stack {stack} --path --type string '{release.config_path}"
    if traffic["approved_version"] != release.version:
        commands.append(f"`{set_path}.approvedVersion' {release.version}`")
    serving_command = f"`python -m scripts.release_version --serving {stack} {release.workspace}`"
    if traffic["approved_serving_version"] != traffic["serving_version"]:
        commands.append(
            f"`{set_path}.approvedServingVersion' {traffic['serving_version']}` "
            f"(the serving version, as {serving_command} prints it)"
        )
    return "staged until approved: approve with " + " and ".join(commands)


def traffic_words(release: Release, stack: str, decision: dict[str, Any] | None = None) -> str:
    """What the traffic resource's `up` would do, in words."""
    if decision is None:
        if_won = declared_state({**release.traffic, "winner": CHALLENGER, "champion_version": None})
        outcome = _approval_words(release, stack) if if_won.staged else rollout_words(release.traffic, None)
        return (
            f"if {release.version} wins the comparison at `up` (--champion DIR runs it now): {outcome}; "
            "if it loses, traffic stays as it is"
        )
    champion = decision["champion_version"]
    state = declared_state({**release.traffic, "winner": decision["winner"], "champion_version": champion})
    if state.staged:
        return f"{release.version} won: {_approval_words(release, stack)}"
    if state.live == release.version and champion != release.version:
        return f"{release.version} won: {rollout_words(release.traffic, champion is not None)}"
    return state.note


def selection_words(release: Release, evaluation: Evaluation, decision: dict[str, Any] | None = None) -> str:
    data = f"{evaluation.rows} rows ({evaluation.hate} hate) of {evaluation.source}"
    if decision is None:
        return f"compares {release.version} with the model in production at `up`, on {data}"
    if not decision["compared"]:
        return decision["reason"]
    outcome = (
        f"{release.version} wins against champion {decision['champion_version']}"
        if decision["winner"] == CHALLENGER
        else f"champion {decision['champion_version']} stays, {release.version} loses"
    )
    return f"{outcome} (McNemar p {decision['p_value']:.4g}), on {data}"


def decision_lines(release: Release, decision: dict[str, Any]) -> list[str]:
    """The decision as a release reviewer reads it: who wins and why, metrics, guardrails."""
    from model.compare_settings import METRIC_NAMES

    lines = [
        f"release decision for workspace {release.workspace} (offline: model.compare with the stack's "
        "settings, as the ChampionSelection runs it at `up`)",
        f"  champion    {decision['champion_version']}  {decision['champion_dir']}",
        f"  challenger  {release.version}  {release.candidate}",
        f"  winner      {decision['winner']}",
    ]
    if not decision["compared"]:
        return lines + [f"  reason      {decision['reason']}"]
    test = decision["mcnemar"]
    lines[-1] += (
        f"  (McNemar p {decision['p_value']:.4g}, {test['method']}: champion alone right on {test['b']} rows, "
        f"challenger alone right on {test['c']})"
    )
    lines += [
        f"  reason      {decision['reason']}",
        f"  data        {decision['data']}  {decision['n']} rows  sha256 {decision['data_sha256'][:12]}",
        f"  {'metric':<16}{'champion':>10}{'challenger':>12}",
    ]

    def number(value, digits=4):
        return "n/a" if value is None else f"{value:.{digits}f}"

    for name in (*METRIC_NAMES, "latency_ms"):
        digits = 2 if name == "latency_ms" else 4
        lines.append(
            f"  {name:<16}{number(decision['champion'].get(name), digits):>10}"
            f"{number(decision['challenger'].get(name), digits):>12}"
        )
    for name, check in decision["guardrails"].items():
        evidence = ", ".join(
            f"{key} {number(value) if isinstance(value, float) else value}"
            for key, value in check.items()
            if key != "passed"
        )
        lines.append(f"  guardrail {name}: {'passed' if check['passed'] else 'FAILED'} ({evidence})")
    return lines


# ---------------------------------------------------------------------------------- the preview
@dataclass(frozen=True)
class Preview:
    notes: dict[str, str]  # resource name -> what its `up` would do
    decisions: list[str]  # lines of each offline decision


def preview_releases(plan: dict[str, Any], config: dict[str, Any], stack: str, champion: str | None = None) -> Preview:
    """Check every release of `plan` (ReleasePreviewError on the first that would fail) and say what
    its `up` would do; with `champion`, decide the (one) release offline."""
    releases = releases_in(plan, config)
    if champion is not None and len(releases) != 1:
        found = ", ".join(r.workspace for r in releases) or "none"
        raise ReleasePreviewError(
            f"--champion needs exactly one release in the plan (found: {found}); set "
            "--config 'workspaces[N].release.candidate=DIR' and "
            "--config 'workspaces[N].release.evaluationData=CSV' for one workspace"
        )
    notes, decisions = {}, []
    for release in releases:
        evaluation = check_release(release)
        decision = decide_offline(release, champion) if champion is not None else None
        notes[release.selection_name] = selection_words(release, evaluation, decision)
        notes[release.traffic_name] = traffic_words(release, stack, decision)
        if decision is not None:
            decisions += decision_lines(release, decision)
    return Preview(notes, decisions)
