"""Stage tags of the model versions in one environment's workspace, kept true by its traffic resource.

They are each environment's own: test and prod release the same registry version, and each tags the
version of it registered in its own workspace (model_version.py says why), so a release in one never
changes a stage in the other, and each environment's champion is the version its workspace tags
`production`.

    staged      won its comparison, not live (one at a time; the previous one becomes `unstaged`, as
                does a staged winner whose release the stack no longer declares)
    production  the live model (the previous one becomes `surpassed`)
    (no tag)    never won
Every change is a read of the version's tags and a write of all of them with only `stage` changed
(a model PUT replaces the tags), and only for versions whose stage actually changes.
"""

from __future__ import annotations

STAGE_TAG = "stage"
STAGED = "staged"
UNSTAGED = "unstaged"
PRODUCTION = "production"
SURPASSED = "surpassed"
STAGES = (STAGED, UNSTAGED, PRODUCTION, SURPASSED)


def _wanted_stage(
    version: str, current: str | None, production: str | None, staged: str | None, nothing_staged: bool
) -> str | None:
    if version == production:
        return PRODUCTION
    if version == staged:
        return STAGED
    if production is not None and current == PRODUCTION:
        return SURPASSED
    if (staged is not None or nothing_staged) and current == STAGED:
        return UNSTAGED
    return current


def set_stages(
    gateway, model_name: str, production: str | None, staged: str | None, *, nothing_staged: bool = False
) -> dict[str, str]:
    """Tag `production` and `staged` (either may be None: that stage is left alone, unless
    `nothing_staged` says no version may stay `staged`); returns {version: stage} written."""
    versions = {v.version: v for v in gateway.list_model_versions(model_name)}
    for wanted in (production, staged):
        if wanted is not None and wanted not in versions:
            found = gateway.get_model_version(model_name, wanted)
            if found is None:
                raise LookupError(
                    f"model {model_name} version {wanted} is not in the workspace; "
                    f"register it (ModelVersion resource) before releasing it"
                )
            versions[wanted] = found
    written: dict[str, str] = {}
    for version, model in sorted(versions.items()):
        current = model.tags.get(STAGE_TAG)
        wanted = _wanted_stage(version, current, production, staged, nothing_staged)
        if wanted is not None and wanted != current:  # None only ever keeps an untagged version untagged
            gateway.set_model_tags(model_name, version, {**model.tags, STAGE_TAG: wanted})
            written[version] = wanted
    return written


def production_version(gateway, model_name: str) -> str | None:
    """The version the registry tags `production` (the champion), None before the first release."""
    tagged = sorted(v.version for v in gateway.list_model_versions(model_name) if v.tags.get(STAGE_TAG) == PRODUCTION)
    if len(tagged) > 1:
        raise LookupError(
            f"model {model_name}: versions {tagged} are all tagged {STAGE_TAG}={PRODUCTION}; "
            f"exactly one may be. Tag all but the live one {SURPASSED} and run `pulumi up` again"
        )
    return tagged[0] if tagged else None


def stages_of(gateway, model_name: str, versions) -> dict[str, str | None]:
    """The live stage tag of each of `versions` (None: no tag; missing versions are left out)."""
    found = {}
    for version in sorted({v for v in versions if v}):
        model = gateway.get_model_version(model_name, version)
        if model is not None:
            found[version] = model.tags.get(STAGE_TAG)
    return found
