"""The workspace coordinates every release resource carries as plain inputs.

Providers hold no client: each method rebuilds the gateway from these three strings.
"""
from __future__ import annotations

import re

from infra.azureml.gateway import WorkspaceRef

from .fields import FieldReader

WORKSPACE_FIELDS = ("subscription_id", "resource_group", "workspace_name")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$")


def read_workspace(reader: FieldReader) -> dict:
    """Checked workspace fields of a resource's inputs."""
    return {
        "subscription_id": reader.text("subscription_id", pattern=_GUID, accepted="a subscription GUID"),
        "resource_group": reader.text("resource_group", pattern=_RESOURCE_GROUP,
                                      accepted="a resource group name (1-90 letters, digits, '-', '_', '.', '(', ')')"),
        "workspace_name": reader.text("workspace_name", pattern=_WORKSPACE,
                                      accepted="a workspace name (3-33 letters, digits, '-' or '_')"),
    }


def workspace_ref(props: dict) -> WorkspaceRef:
    return WorkspaceRef(subscription_id=props["subscription_id"], resource_group=props["resource_group"],
                        workspace_name=props["workspace_name"])
