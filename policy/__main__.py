"""Entry point Pulumi runs for `--policy-pack policy`. PolicyPack starts the analyzer server and never
returns, so nothing else may import this file; tests use mlops_policies directly."""

from pulumi_policy import PolicyPack

from mlops_policies import pack_arguments

PolicyPack(**pack_arguments())
