"""Pulumi entry point: declares the selected stack and exports its outputs."""

import pulumi

import stacks

for key, value in stacks.program().items():
    pulumi.export(key, value)
