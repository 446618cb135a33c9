"""The serving code and inference environment of a workspace, as versioned Azure ML assets.

Both versions are derived from the content of what the scoring runtime uses, so a change to the
scoring code or the environment makes a new version and an unchanged tree declares nothing new.
Only SCORING_FILES are uploaded (score.py, the inference server's gunicorn_config.py, what they
import, the OpenAPI documents the inference server answers with): editing anything else under
`serving/` changes nothing in Azure.

Versions are part of a resource's identity, so a new version replaces the resource, and
azure-native replaces delete-first. Every versioned resource here is `retain_on_delete`: the
engine then drops the old version from the stack without deleting it in Azure, so the assets a
live or idle slot references stay (the registry is the audit trail), and the new version exists
before the release that moves a slot onto it runs (its ids are the release's inputs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import yaml
from pulumi_azure_native import machinelearningservices as ml
from pulumi_azure_native import storage

SERVING_DIR = Path(__file__).resolve().parents[1] / "serving"
ENVIRONMENT_SPEC_NAME = "environment.yaml"
# The scoring runtime: score.py, the server's gunicorn_config.py, the modules they import, and the OpenAPI
# documents azmlinfsrv serves.
CODE_ASSET = "hate-speech-scoring"
ENVIRONMENT_ASSET = "hate-speech-serving"
SCORING_FILES = ("score.py", "artifact_location.py", "classifier.py", "scoring_request.py", "scoring_settings.py",
                 "gunicorn_config.py", "read_deadline_worker.py", "request_guard.py",
                 "swagger.json", "swagger3.json", "swagger3.1.json")


@dataclass(frozen=True)
class ServingSource:
    """What `serving/` holds: the code files to ship and the environment's image and conda file."""

    code_files: tuple[tuple[str, Path], ...]  # (name inside the code asset, file)
    code_version: str
    image: str
    conda_file: str
    environment_version: str

    @classmethod
    def read(cls, serving_dir: Path = SERVING_DIR) -> "ServingSource":
        spec_path = serving_dir / "environment" / ENVIRONMENT_SPEC_NAME
        if not spec_path.is_file():
            raise FileNotFoundError(f"serving environment spec not found: {spec_path} "
                                    "(expected an Azure ML environment YAML with `image` and `conda_file`)")
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        missing = [key for key in ("image", "conda_file") if not spec.get(key)]
        if missing:
            raise ValueError(f"{spec_path}: missing {', '.join(missing)}; accepted: an Azure ML environment "
                             "YAML with `image` (base image) and `conda_file` (path beside it)")
        conda_text = (spec_path.parent / spec["conda_file"]).read_text(encoding="utf-8")
        missing_files = [name for name in SCORING_FILES if not (serving_dir / name).is_file()]
        if missing_files:
            raise FileNotFoundError(f"{serving_dir}: missing scoring files {', '.join(missing_files)}; "
                                    f"accepted: a serving folder holding {', '.join(SCORING_FILES)}")
        files = tuple(sorted((name, serving_dir / name) for name in SCORING_FILES))
        return cls(
            code_files=files,
            code_version=_digest((name, path.read_bytes()) for name, path in files),
            image=spec["image"],
            conda_file=conda_text,
            environment_version=_digest([("image", spec["image"].encode()), ("conda", conda_text.encode())]),
        )


def _digest(named_contents) -> str:
    digest = hashlib.sha256()
    for name, content in named_contents:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:12]


class ServingAssets(pulumi.ComponentResource):
    environment_id: pulumi.Output[str]
    code_id: pulumi.Output[str]

    def __init__(self, name: str, source: ServingSource, workspace_name: pulumi.Input[str],
                 resource_group_name: pulumi.Input[str], storage_account_name: pulumi.Input[str],
                 code_container_name: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:ServingAssets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        environment = ml.EnvironmentVersion(
            f"{name}-environment",
            name=ENVIRONMENT_ASSET,
            version=source.environment_version,
            workspace_name=workspace_name,
            resource_group_name=resource_group_name,
            properties={"image": source.image, "conda_file": source.conda_file, "os_type": "Linux",
                        "description": "onnxruntime inference environment of serving/"},
            opts=child,
        )
        prefix = f"{name}/{source.code_version}"
        blobs = [
            storage.Blob(
                f"{name}-code-{file_name}",
                blob_name=f"{prefix}/{file_name}",
                container_name=code_container_name,
                account_name=storage_account_name,
                resource_group_name=resource_group_name,
                type="Block",
                source=pulumi.FileAsset(str(path)),
                opts=child,
            )
            for file_name, path in source.code_files
        ]
        code = ml.CodeVersion(
            f"{name}-code",
            name=CODE_ASSET,
            version=source.code_version,
            workspace_name=workspace_name,
            resource_group_name=resource_group_name,
            properties={
                "code_uri": pulumi.Output.concat(
                    "https://", storage_account_name, ".blob.core.windows.net/", code_container_name, "/", prefix),
                "description": "scoring code of serving/",
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=blobs, retain_on_delete=True),
        )
        self.environment_id = environment.id
        self.code_id = code.id
        self.register_outputs({"environment_id": self.environment_id, "code_id": self.code_id})
