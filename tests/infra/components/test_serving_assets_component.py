from infra.serving_assets import CODE_ASSET, ENVIRONMENT_ASSET, ServingAssets, ServingAssetsArgs, ServingSource

ML = "azure-native:machinelearningservices"


def test_the_assets_are_content_versions_of_the_source_and_are_retained(declare):
    source = ServingSource.read()
    args = ServingAssetsArgs(source=source, workspace_name="mlw-unit", resource_group_name="rg-unit",
                             storage_account_name="stunit", code_container_name="code")
    plan = declare(lambda: {"code_id": ServingAssets("ws-serving", args).code_id})
    environment, code = plan.one(f"{ML}:EnvironmentVersion"), plan.one(f"{ML}:CodeVersion")
    assert (environment.inputs["name"], environment.inputs["version"]) == (ENVIRONMENT_ASSET,
                                                                         source.environment_version)
    assert environment.input("properties.image") == source.image
    assert (code.inputs["name"], code.inputs["version"]) == (CODE_ASSET, source.code_version)
    assert code.input("properties.codeUri") == \
        f"https://stunit.blob.core.windows.net/code/ws-serving/{source.code_version}"
    blobs = plan.of_type("azure-native:storage:Blob")
    assert sorted(b.inputs["blobName"] for b in blobs) == sorted(
        f"ws-serving/{source.code_version}/{name}" for name, _ in source.code_files)
    assert {b.inputs["containerName"] for b in blobs} == {"code"}
    assert set(code.dependencies) == {b.name for b in blobs}, "the code version exists only once its files do"
    assert all(r.retain_on_delete for r in plan.resources if r.custom)
    assert {r.parent for r in plan.resources if r.custom} == {"ws-serving"}
    assert plan.outputs["code_id"].endswith(f"/codes/{CODE_ASSET}/versions/{source.code_version}")
