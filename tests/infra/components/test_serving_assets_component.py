from infra.release.base import WorkspaceCoordinates
from infra.release.content import files_version
from infra.serving_assets import (
    CODE_ASSET,
    ENVIRONMENT_ASSET,
    SCORING_FILES,
    SERVING_DIR,
    ServingAssets,
    ServingAssetsArgs,
    ServingSource,
)

ASSET = "pulumi-python:dynamic/release:AssetVersion"


def test_the_assets_are_content_versions_of_the_source_and_nothing_else_is_declared(declare):
    source = ServingSource.read()
    workspace = WorkspaceCoordinates("00000000-0000-0000-0000-000000000000", "rg-unit", "mlw-unit")
    plan = declare(lambda: {"code_id": ServingAssets("ws-serving", ServingAssetsArgs(source, workspace)).code_id})
    environment, code = plan.one(ASSET, "ws-serving-environment"), plan.one(ASSET, "ws-serving-code")
    assert (environment.inputs["name"], environment.inputs["version"]) == (
        ENVIRONMENT_ASSET,
        source.environment_version,
    )
    assert (environment.inputs["kind"], environment.inputs["image"]) == ("environment", source.image)
    assert environment.inputs["conda_file"] == source.conda_file
    assert (code.inputs["name"], code.inputs["version"], code.inputs["kind"]) == (
        CODE_ASSET,
        source.code_version,
        "code",
    )
    files = code.inputs["code_files"]  # file assets, shown by their project-relative paths
    assert files == {name: {"asset": f"serving/{name}"} for name in SCORING_FILES}, (
        "exactly the scoring runtime goes into the code asset"
    )
    assert files_version({name: SERVING_DIR / name for name in files}) == source.code_version, (
        "the version names the content of the files it ships"
    )
    assert "code_uri" not in code.inputs
    # no storage resource: the files reach Azure with the version's registration, by identity (no shared key)
    assert [r.type for r in plan.resources if r.custom] == [ASSET, ASSET]
    assert {r.parent for r in plan.resources if r.custom} == {"ws-serving"}
    assert plan.outputs["code_id"] == (
        f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-unit/"
        f"providers/Microsoft.MachineLearningServices/workspaces/mlw-unit/codes/"
        f"{CODE_ASSET}/versions/{source.code_version}"
    ), "known at preview"
