"""Azure ML's long-running operations as the fake runs them: Azure-AsyncOperation status documents.

Time is counted in requests: every request the fake receives advances each operation in progress
by one step. An operation started with `polls` answers InProgress to the next `polls` status
requests (when nothing else happens meanwhile), then ends Succeeded (or Failed) and only then
applies its `finish(succeeded)` to the resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from tests.fakes.azureml_rules import refuse
from tests.fakes.http import Response

PROVIDER = "Microsoft.MachineLearningServices"


@dataclass
class Operation:
    op_id: str
    remaining_polls: int
    finish: Callable[[bool], None]
    fails: bool
    message: str
    api_version: str
    started: str
    status: str = "InProgress"
    ended: str | None = None


class Operations:
    def __init__(self, arm_base: str, subscription_id: str, region: str, tick: Callable[[], str]):
        self._location = f"/subscriptions/{subscription_id}/providers/{PROVIDER}/locations/{region}"
        self._arm_base = arm_base
        self._tick = tick
        self._operations: dict[str, Operation] = {}

    def start(
        self, polls: int, finish: Callable[[bool], None], failure: str | None, api_version: str | None
    ) -> Operation:
        """failure: None to succeed, else the message the operation fails with."""
        op = Operation(
            op_id=f"oe:{uuid.uuid4()}:{uuid.uuid4()}",
            remaining_polls=polls,
            finish=finish,
            fails=failure is not None,
            message=failure or "",
            api_version=api_version or "2022-02-01-preview",
            started=self._tick(),
        )
        self._operations[op.op_id] = op
        return op

    def status_url(self, op: Operation) -> str:
        """The Azure-AsyncOperation URL (it echoes the api-version of the request that started it)."""
        return f"{self._arm_base}{self._location}/mfeOperationsStatus/{op.op_id}?api-version={op.api_version}"

    def results_url(self, op: Operation) -> str:
        """The Location URL of a delete."""
        return f"{self._arm_base}{self._location}/mfeOperationResults/{op.op_id}?api-version={op.api_version}"

    def advance(self) -> None:
        """One unit of time passes (a request arrived)."""
        for op in list(self._operations.values()):
            if op.status == "InProgress":
                if op.remaining_polls > 0:
                    op.remaining_polls -= 1
                else:
                    self._end(op)

    def complete_all(self) -> None:
        for op in list(self._operations.values()):
            if op.status == "InProgress":
                self._end(op)

    def answer(self, op_id: str, results: bool) -> Response:
        """GET on a status URL (a status document) or a results URL (202 until done, then 200, or 400 with
        the error when the operation failed)."""
        op = self._operations.get(op_id)
        if op is None:
            refuse(404, "ResourceNotFound", f"Operation '{op_id}' not found.")
        if results:
            if op.status == "Failed":  # the final Location GET of a failed operation answers its error
                refuse(400, "OperationFailed", op.message)
            return Response(202 if op.status == "InProgress" else 200, None)
        body = {
            "id": f"{self._location}/mfeOperationsStatus/{op.op_id}",
            "name": op.op_id,
            "status": op.status,
            "startTime": op.started,
        }
        if op.ended:
            body["endTime"] = op.ended
        if op.status == "Failed":
            body["error"] = {"code": "DeploymentFailed", "message": op.message}
        return Response(200, body)

    def _end(self, op: Operation) -> None:
        op.status = "Failed" if op.fails else "Succeeded"
        op.ended = self._tick()
        op.finish(not op.fails)
