"""ChampionSelection: decides, with evidence, whether a challenger should replace the production model.

The production model is the version the registry tags `production` (the traffic resource keeps
that tag true, and refuses to release over an endpoint someone else changed), never a guess from
traffic shares. Both models are scored as local folders by `model.compare.compare` on the
evaluation data (true labels, McNemar's test, guardrails); the whole decision is stored in the
resource's outputs: `pulumi stack export` carries why a release happened or did not, and
`pulumi stack history` records the update that made (or kept) each decision; the audit report
(`python -m scripts.audit`) joins the two. The resource is a record: `read` returns it unchanged and `delete`
removes nothing in Azure.

Why a resource of its own and not part of the traffic resource: the decision is evidence and the
traffic move is an action. Kept apart, a failed rollout is retried without scoring again, prod can
hold a decision while it waits for approval, and a decision can be previewed and audited on its own.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from .artifacts import default_cache_dir, local_artifacts
from .base import WORKSPACE_FIELDS, ReleaseProvider, WorkspaceCoordinates, gateway_for, read_workspace, workspace_ref
from .content import file_sha256, is_remote
from .fields import FieldReader
from .traffic.live import read_live
from .traffic.stages import production_version
from .values import is_unknown, plain, without_engine_keys

RESOURCE = "ChampionSelection"
DECISION_FIELDS = (
    *WORKSPACE_FIELDS,
    "endpoint_name",
    "model_name",
    "challenger_version",
    "evaluation_data_sha256",
    "compare_settings",
)
CHALLENGER, CHAMPION = "challenger", "champion"


def _compare_settings(settings: dict):
    from model.compare import CompareSettings

    return CompareSettings(**settings)


def _settings_fields() -> dict[str, Any]:
    from model.compare import CompareSettings

    return {f.name: f.default for f in dataclasses.fields(CompareSettings)}


def _check_inputs(props: dict) -> tuple[dict, list[tuple[str, str]]]:
    reader = FieldReader(RESOURCE, props)
    checked = read_workspace(reader)
    checked["endpoint_name"] = reader.name("endpoint_name")
    checked["model_name"] = reader.name("model_name")
    checked["challenger_version"] = reader.name("challenger_version")
    challenger_path = reader.text(
        "challenger_path", accepted="the challenger's local artifact folder, or its azureml:// reference"
    )
    if isinstance(challenger_path, str) and not is_unknown(challenger_path):
        if is_remote(challenger_path):
            challenger_path = challenger_path  # resolved through the registry when the decision is made
        elif not Path(challenger_path).expanduser().is_dir():
            reader.fail("challenger_path", challenger_path, "an existing local artifact folder")
        else:
            challenger_path = str(Path(challenger_path).expanduser().resolve())
    checked["challenger_path"] = challenger_path
    data = reader.text("evaluation_data", accepted="a labelled evaluation CSV (columns text, hate, ...)")
    checked["evaluation_data"] = data
    checked["evaluation_data_sha256"] = None
    if isinstance(data, str) and not is_unknown(data):
        data_path = Path(data).expanduser()
        if not data_path.is_file():
            reader.fail("evaluation_data", data, "an existing labelled evaluation CSV file")
        else:
            checked["evaluation_data"] = str(data_path.resolve())
            checked["evaluation_data_sha256"] = file_sha256(data_path)
    settings = reader.mapping("compare_settings") or {}
    if not is_unknown(settings):
        known = _settings_fields()
        unknown_keys = sorted(set(settings) - set(known))
        if unknown_keys:
            reader.fail("compare_settings", settings, f"keys among {sorted(known)}")
        settings = {k: plain(v) for k, v in settings.items() if k in known}
        try:
            _compare_settings(settings)
        except (TypeError, ValueError) as error:
            reader.failures.append(("compare_settings", f"compare_settings: {error}"))
    checked["compare_settings"] = settings
    checked["cache_dir"] = reader.text("cache_dir", required=False)
    return checked, reader.failures


def _summary(result: dict, champion_version: str | None, challenger_version: str) -> dict:
    winner = result["winner"]
    return {
        "champion_version": champion_version,
        "winner": winner,
        "winner_version": challenger_version if winner == CHALLENGER else champion_version,
        "p_value": result.get("p_value"),
        "reason": result.get("reason"),
        "decision": result,
        "decided_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def decide(spec: dict) -> dict:
    """Score production against the challenger and return the decision outputs."""
    gateway = gateway_for(workspace_ref(spec))
    model_name, challenger_version = spec["model_name"], spec["challenger_version"]
    read_live(gateway, spec["endpoint_name"])  # the endpoint must exist
    champion_version = production_version(gateway, model_name)
    if champion_version == challenger_version:
        return _summary(
            {
                "winner": CHALLENGER,
                "p_value": None,
                "compared": False,
                "reason": f"version {challenger_version} is already the production model",
            },
            champion_version,
            challenger_version,
        )
    challenger_dir = spec["challenger_path"]
    cache = Path(spec["cache_dir"]) if spec["cache_dir"] else default_cache_dir()
    if is_remote(challenger_dir):
        challenger_dir = local_artifacts(gateway, _registered(gateway, model_name, challenger_version), cache)
    champion_dir = None
    if champion_version is not None:
        champion_dir = local_artifacts(gateway, _registered(gateway, model_name, champion_version), cache)
    from model.compare import compare

    result = compare(
        None if champion_dir is None else str(champion_dir),
        str(challenger_dir),
        spec["evaluation_data"],
        _compare_settings(spec["compare_settings"]),
    )
    return _summary({**result, "compared": True}, champion_version, challenger_version)


def _registered(gateway, model_name: str, version: str):
    model = gateway.get_model_version(model_name, version)
    if model is None:
        raise LookupError(f"model {model_name} version {version} is not in the workspace")
    return model


class ChampionSelectionProvider(ReleaseProvider):
    """Engine lifecycle of a champion/challenger decision. Holds nothing: every method builds its gateway."""

    resource = RESOURCE
    replace_fields = ()
    compared_fields = (*DECISION_FIELDS, "challenger_path", "evaluation_data", "cache_dir")

    def check_inputs(self, props: dict, *, previewing: bool = False) -> tuple[dict, list[tuple[str, str]]]:
        return _check_inputs(props)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        spec = self.spec(props)
        decision = decide(spec)
        return dynamic.CreateResult(f"{spec['model_name']}:{spec['challenger_version']}", {**spec, **decision})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        spec = self.spec(news)
        if all(plain(spec[k]) == plain(olds.get(k)) for k in DECISION_FIELDS):
            kept = {
                k: olds.get(k)
                for k in (
                    "champion_version",
                    "winner",
                    "winner_version",
                    "p_value",
                    "reason",
                    "decision",
                    "decided_utc",
                )
            }
            return dynamic.UpdateResult({**spec, **kept})
        return dynamic.UpdateResult({**spec, **decide(spec)})

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        """The decision as recorded: inputs and evidence. Azure holds no decision, so nothing drifts."""
        return dynamic.ReadResult(id_, without_engine_keys(props))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """A decision lives in the stack's history; there is nothing in Azure to remove."""


class ChampionSelection(dynamic.Resource, module="release", name="ChampionSelection"):
    """Production (what `endpoint_name` serves) against `challenger_version` on `evaluation_data`."""

    champion_version: pulumi.Output[str | None]
    winner: pulumi.Output[str]
    winner_version: pulumi.Output[str | None]
    p_value: pulumi.Output[float | None]
    reason: pulumi.Output[str]
    decision: pulumi.Output[dict]
    decided_utc: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        workspace: WorkspaceCoordinates,
        endpoint_name: pulumi.Input[str],
        model_name: pulumi.Input[str],
        challenger_version: pulumi.Input[str],
        challenger_path: pulumi.Input[str],
        evaluation_data: pulumi.Input[str],
        compare_settings: pulumi.Input[dict] | None = None,
        cache_dir: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            **workspace.as_props(),
            "endpoint_name": endpoint_name,
            "model_name": model_name,
            "challenger_version": challenger_version,
            "challenger_path": challenger_path,
            "evaluation_data": evaluation_data,
            "compare_settings": compare_settings or {},
            "cache_dir": cache_dir,
            "evaluation_data_sha256": None,
            "champion_version": None,
            "winner": None,
            "winner_version": None,
            "p_value": None,
            "reason": None,
            "decision": None,
            "decided_utc": None,
        }
        super().__init__(ChampionSelectionProvider(), resource_name, props, opts)
