"""The serving code and inference environment of a workspace, as versioned Azure ML assets.

Both versions are derived from the content of what the scoring runtime uses, so a change to the
scoring code or the environment makes a new version and an unchanged tree declares nothing new.
Only SCORING_FILES are uploaded (score.py, the inference server's gunicorn_config.py, what they
import, the OpenAPI documents the inference server answers with): editing anything else under
`serving/` changes nothing in Azure.

The code and environment versions are AssetVersion resources (infra/release/asset_version.py):
registered when absent, adopted when registered already (a revert under `serving/` declares an
older version again), never deleted, so the assets a live or idle slot references stay (the
registry is the audit trail). The code files reach Azure with the version's registration: the
gateway uploads them to the workspace's default datastore with the deploying identity (Entra ID,
never the storage account's shared key, which the stacks turn off), then registers them.
Both exist before the release that moves a slot onto them runs: their ids are its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import yaml

from infra.release.asset_version import AssetVersion
from infra.release.base import WorkspaceCoordinates
from infra.release.content import files_version, named_sha256, version_of

SERVING_DIR = Path(__file__).resolve().parents[1] / "serving"
ENVIRONMENT_SPEC_NAME = "environment.yaml"
# The scoring runtime: score.py, the server's gunicorn_config.py, the modules they import, and the OpenAPI
# documents azmlinfsrv serves.
CODE_ASSET = "hate-speech-scoring"
ENVIRONMENT_ASSET = "hate-speech-serving"
SCORING_FILES = (
    "score.py",
    "artifact_location.py",
    "classifier.py",
    "scoring_request.py",
    "scoring_settings.py",
    "gunicorn_config.py",
    "read_deadline_worker.py",
    "request_guard.py",
    "swagger.json",
    "swagger3.json",
    "swagger3.1.json",
)


@dataclass(frozen=True)
class ServingSource:
    """What `serving/` holds: the code files to ship and the environment's image and conda file."""

    code_files: tuple[tuple[str, Path], ...]  # (name inside the code asset, file)
    code_version: str
    image: str
    conda_file: str
    environment_version: str

    @classmethod
    def read(cls, serving_dir: Path = SERVING_DIR) -> ServingSource:
        spec_path = serving_dir / "environment" / ENVIRONMENT_SPEC_NAME
        if not spec_path.is_file():
            raise FileNotFoundError(
                f"serving environment spec not found: {spec_path} "
                "(expected an Azure ML environment YAML with `image` and `conda_file`)"
            )
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        missing = [key for key in ("image", "conda_file") if not spec.get(key)]
        if missing:
            raise ValueError(
                f"{spec_path}: missing {', '.join(missing)}; accepted: an Azure ML environment "
                "YAML with `image` (base image) and `conda_file` (path beside it)"
            )
        conda_text = (spec_path.parent / spec["conda_file"]).read_text(encoding="utf-8")
        missing_files = [name for name in SCORING_FILES if not (serving_dir / name).is_file()]
        if missing_files:
            raise FileNotFoundError(
                f"{serving_dir}: missing scoring files {', '.join(missing_files)}; "
                f"accepted: a serving folder holding {', '.join(SCORING_FILES)}"
            )
        files = tuple(sorted((name, serving_dir / name) for name in SCORING_FILES))
        return cls(
            code_files=files,
            code_version=files_version(dict(files)),
            image=spec["image"],
            conda_file=conda_text,
            environment_version=version_of(
                named_sha256([("image", spec["image"].encode()), ("conda", conda_text.encode())])
            ),
        )


@dataclass(frozen=True)
class ServingAssetsArgs:
    """What `serving/` holds, and the workspace the assets are versions in."""

    source: ServingSource
    workspace: WorkspaceCoordinates


class ServingAssets(pulumi.ComponentResource):
    environment_id: pulumi.Output[str]
    code_id: pulumi.Output[str]

    def __init__(self, name: str, args: ServingAssetsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:infra:ServingAssets", name, None, opts)
        # The component's own `depends_on` (the private endpoints and data roles its uploads need) does
        # not reach its children, which the engine orders by their own dependencies only: pass it on.
        after = opts.depends_on if opts else None
        child = pulumi.ResourceOptions(parent=self, depends_on=after)
        environment = AssetVersion(
            f"{name}-environment",
            workspace=args.workspace,
            kind="environment",
            name=ENVIRONMENT_ASSET,
            version=args.source.environment_version,
            image=args.source.image,
            conda_file=args.source.conda_file,
            opts=child,
        )
        code = AssetVersion(
            f"{name}-code",
            workspace=args.workspace,
            kind="code",
            name=CODE_ASSET,
            version=args.source.code_version,
            code_files={file_name: pulumi.FileAsset(str(path)) for file_name, path in args.source.code_files},
            opts=child,
        )
        self.environment_id = environment.asset_id
        self.code_id = code.asset_id
        self.register_outputs({"environment_id": self.environment_id, "code_id": self.code_id})
