"""The offline engine: runs the real program of a stack under the Pulumi SDK's mock runtime.

Development tooling, not product infrastructure (DESIGN decision 4): `scripts/plan`, the
benchmarks and the tests run stacks with it, and nothing under `infra/` imports it.
  mocks    what the engine answers and records for each registration (ids, names, outputs)
  program  runs a program function under those mocks and returns its Plan
  stack    runs a stack's real program with its `Pulumi.<stack>.yaml` config
"""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
