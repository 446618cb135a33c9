"""Why no release resource documents a `pulumi import` id: the dynamic provider host cannot serve one.

pulumi/pkg/resource/deploy/step.go ImportStep.Apply reads the resource with only its id (no inputs,
no properties); the Python dynamic provider host (pulumi/dynamic/__main__.py, Read) then looks for
the pickled provider in those empty properties (pulumi/pulumi#16175). Creating adopts instead:
ServingEndpoint an endpoint of its name, ModelVersion a registered version of the same content.
If a Pulumi release makes this test fail, imports have become possible: add them.
"""

from __future__ import annotations

import pathlib

import pytest


def _dynamic_host():
    """pulumi/dynamic/__main__.py's servicer as the engine runs it, without starting its gRPC server."""
    import pulumi.dynamic

    source = (pathlib.Path(pulumi.dynamic.__file__).parent / "__main__.py").read_text(encoding="utf-8")
    namespace: dict = {"__name__": "dynamic_host"}
    exec(compile(source.replace("\nmain()\n", "\n"), "pulumi/dynamic/__main__.py", "exec"), namespace)
    return namespace["DynamicResourceProviderServicer"]()


class _Aborted(Exception):
    pass


class _Context:
    def abort(self, code, details):
        raise _Aborted(details)


def test_the_dynamic_provider_host_cannot_read_a_resource_for_an_import():
    from pulumi.runtime.proto import provider_pb2

    request = provider_pb2.ReadRequest(
        id="/subscriptions/0/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/"
        "onlineEndpoints/hate-speech",
        urn="urn:pulumi:test::mlops-platform::pulumi-python:dynamic/release:ServingEndpoint::e",
    )
    with pytest.raises(_Aborted, match="KeyError: '__provider'"):
        _dynamic_host().Read(request, _Context())
