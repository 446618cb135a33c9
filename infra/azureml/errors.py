"""Errors the Azure ML gateway raises, and the translation from azure-core / azure-ai-ml exceptions."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError


class AzureMLError(Exception):
    """A call to Azure ML failed.

    Attributes: operation (gateway method), resource (what it acted on), status (HTTP status, or None
    when the failure carried none: connection error, client-side validation, a scoring reply that
    was not JSON), code (the service's error code, if any), service_message, attempts (calls made).
    """

    def __init__(
        self,
        operation: str,
        resource: str,
        status: int | None,
        service_message: str,
        code: str | None = None,
        attempts: int = 1,
    ):
        self.operation = operation
        self.resource = resource
        self.status = status
        self.code = code
        self.service_message = service_message
        self.attempts = attempts
        status_text = f"HTTP {status}" if status is not None else "no HTTP status"
        code_text = f" {code}" if code else ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"Azure ML {operation} on {resource} failed{tries}: {status_text}{code_text}: {service_message}"
        )


class NotFound(AzureMLError):
    """The resource does not exist (HTTP 404)."""


def status_of(err: BaseException) -> int | None:
    if isinstance(err, HttpResponseError):
        return err.status_code
    return None


def translate(err: BaseException, operation: str, resource: str, attempts: int) -> AzureMLError:
    """Turn an azure-core or azure-ai-ml exception into an AzureMLError with the service's own words."""
    status = status_of(err)
    code: str | None = None
    message: str
    if isinstance(err, HttpResponseError):
        odata = getattr(err, "error", None)
        code = getattr(odata, "code", None)
        message = getattr(odata, "message", None) or _first_line(err.message) or str(err.reason or "")
    else:
        message = _compact(getattr(err, "message", None) or str(err)) or type(err).__name__
    cls = NotFound if status == 404 else AzureMLError
    return cls(operation, resource, status, message, code=code, attempts=attempts)


def _compact(text: str | None, limit: int = 1000) -> str:
    words = " ".join(line.strip() for line in (text or "").splitlines() if line.strip())
    return words if len(words) <= limit else words[: limit - 3] + "..."


def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return ""
