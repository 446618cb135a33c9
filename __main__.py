"""Pulumi entry point: the selected stack's settings, the resources of its kind, and its outputs."""

import pulumi

import stacks

for key, value in stacks.program().items():
    pulumi.export(key, value)
