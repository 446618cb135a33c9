"""The workspace coordinates every release resource carries as plain inputs.

Providers hold no client: each method rebuilds the gateway from these three strings.
"""
from __future__ import annotations

from infra.azureml.gateway import WorkspaceRef
from infra.facts import (GUID, ML_WORKSPACE_ACCEPTED, ML_WORKSPACE_NAME, RESOURCE_GROUP_ACCEPTED, RESOURCE_GROUP_NAME,
                         full)

from .fields import FieldReader

WORKSPACE_FIELDS = ("subscription_id", "resource_group", "workspace_name")


def read_workspace(reader: FieldReader) -> dict:
    """Checked workspace fields of a resource's inputs."""
    return {
        "subscription_id": reader.text("subscription_id", pattern=full(GUID), accepted="a subscription GUID"),
        "resource_group": reader.text("resource_group", pattern=full(RESOURCE_GROUP_NAME),
                                      accepted=RESOURCE_GROUP_ACCEPTED),
        "workspace_name": reader.text("workspace_name", pattern=full(ML_WORKSPACE_NAME),
                                      accepted=ML_WORKSPACE_ACCEPTED),
    }


def workspace_ref(props: dict) -> WorkspaceRef:
    return WorkspaceRef(subscription_id=props["subscription_id"], resource_group=props["resource_group"],
                        workspace_name=props["workspace_name"])
