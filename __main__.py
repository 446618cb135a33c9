"""Pulumi entry point: the selected stack's settings, its resources, and its outputs."""

import pulumi

import stacks

for key, value in stacks.build(stacks.selected_settings()).items():
    pulumi.export(key, value)
