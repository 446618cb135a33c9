"""Where release providers get their Azure ML gateway: built fresh in every provider method.

A provider instance is pickled into the stack state, so it must hold no client and no credential.
Each method calls `gateway_for(workspace)`, which builds an `AzureMLGateway` with
`DefaultAzureCredential`. Tests (and tools that need another transport) register a factory for
one workspace with `use_gateway_factory`; the registry lives in this module, never on a provider,
so it is not pickled with it.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

from infra.azureml.gateway import AzureMLGateway, WorkspaceRef

GatewayFactory = Callable[[WorkspaceRef], AzureMLGateway]

_factories: dict[WorkspaceRef, GatewayFactory] = {}
_lock = threading.Lock()


def gateway_for(workspace: WorkspaceRef) -> AzureMLGateway:
    """A gateway to `workspace`: the registered factory's, else the real one with DefaultAzureCredential."""
    with _lock:
        factory = _factories.get(workspace)
    if factory is not None:
        return factory(workspace)
    return AzureMLGateway(workspace)


@contextlib.contextmanager
def use_gateway_factory(workspace: WorkspaceRef, factory: GatewayFactory) -> Iterator[None]:
    """Within the block, providers reach `workspace` through `factory(workspace)`."""
    with _lock:
        previous = _factories.get(workspace)
        _factories[workspace] = factory
    try:
        yield
    finally:
        with _lock:
            if previous is None:
                _factories.pop(workspace, None)
            else:
                _factories[workspace] = previous
