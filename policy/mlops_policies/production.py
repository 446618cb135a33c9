"""Which stacks are production, for the policies that are stricter there.

The pack learns the stack from the resource's URN (``urn:pulumi:<stack>::...``), which the engine
always sends, and compares it with the policy's ``productionStacks`` config (default ``["prod"]``).
A platform that names its production stack differently sets, in a policy config file::

    {"ml-compute-no-public-access": {"productionStacks": ["prod", "prod-eu"]}, ...}

and runs ``pulumi preview --policy-pack policy --policy-pack-config that-file.json``.
"""

from collections.abc import Mapping, Sequence

from pulumi_policy import PolicyConfigSchema

from .resource_props import stack_of

DEFAULT_PRODUCTION_STACKS = ("prod",)

PRODUCTION_CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "productionStacks": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_PRODUCTION_STACKS),
            "description": "Stack names whose resources get the production rules.",
        }
    }
)


def production_stacks(config: Mapping) -> tuple[str, ...]:
    stacks = config.get("productionStacks", DEFAULT_PRODUCTION_STACKS) if config else DEFAULT_PRODUCTION_STACKS
    if isinstance(stacks, str) or not isinstance(stacks, Sequence) or not all(isinstance(s, str) for s in stacks):
        raise ValueError(
            f'policy config productionStacks is {stacks!r}; expected a list of stack names such as ["prod"]'
        )
    return tuple(stacks)


def is_production(urn: str, config: Mapping) -> bool:
    return stack_of(urn) in production_stacks(config)
