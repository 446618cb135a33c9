from infra.release.base import WorkspaceCoordinates
from infra.serving_assets import CODE_ASSET, ENVIRONMENT_ASSET, ServingAssets, ServingAssetsArgs, ServingSource

ASSET = "pulumi-python:dynamic/release:AssetVersion"


def test_the_assets_are_content_versions_of_the_source_and_are_retained(declare):
    source = ServingSource.read()
    workspace = WorkspaceCoordinates("00000000-0000-0000-0000-000000000000", "rg-unit", "mlw-unit")
    args = ServingAssetsArgs(
        source=source, workspace=workspace, storage_account_name="stunit", code_container_name="code"
    )
    plan = declare(lambda: {"code_id": ServingAssets("ws-serving", args).code_id})
    environment, code = plan.one(ASSET, "ws-serving-environment"), plan.one(ASSET, "ws-serving-code")
    assert (environment.inputs["name"], environment.inputs["version"]) == (
        ENVIRONMENT_ASSET,
        source.environment_version,
    )
    assert (environment.inputs["kind"], environment.inputs["image"]) == ("environment", source.image)
    assert environment.inputs["conda_file"] == source.conda_file
    assert (code.inputs["name"], code.inputs["version"]) == (CODE_ASSET, source.code_version)
    assert (
        code.inputs["kind"] == "code"
        and code.inputs["code_uri"] == f"https://stunit.blob.core.windows.net/code/ws-serving/{source.code_version}"
    )
    blobs = plan.of_type("azure-native:storage:Blob")
    assert sorted(b.inputs["blobName"] for b in blobs) == sorted(
        f"ws-serving/{source.code_version}/{name}" for name, _ in source.code_files
    )
    assert {b.inputs["containerName"] for b in blobs} == {"code"}
    assert set(code.dependencies) == {b.name for b in blobs}, "the code version exists only once its files do"
    assert all(b.retain_on_delete for b in blobs), "a blob a slot's code version points at is never deleted"
    assert {r.parent for r in plan.resources if r.custom} == {"ws-serving"}
    assert plan.outputs["code_id"] == (
        f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-unit/"
        f"providers/Microsoft.MachineLearningServices/workspaces/mlw-unit/codes/"
        f"{CODE_ASSET}/versions/{source.code_version}"
    ), "known at preview"
