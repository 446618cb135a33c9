"""Bounded retries with exponential backoff for Azure ML calls (429, 5xx, 409 while an endpoint updates)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from infra.azureml.errors import AzureMLError, status_of, translate

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` calls at most; the n-th retry waits initial_delay_s * 2**(n-1), capped at max_delay_s,
    or exactly the service's Retry-After when it sends one (Azure ML does with 429)."""

    attempts: int = 6
    initial_delay_s: float = 2.0
    max_delay_s: float = 60.0

    def __post_init__(self):
        if not isinstance(self.attempts, int) or isinstance(self.attempts, bool) or self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts is {self.attempts!r}; accepted: an integer >= 1")
        if not self.initial_delay_s >= 0:
            raise ValueError(f"RetryPolicy.initial_delay_s is {self.initial_delay_s!r}; accepted: a number >= 0")
        if not self.max_delay_s >= self.initial_delay_s:
            raise ValueError(
                f"RetryPolicy.max_delay_s is {self.max_delay_s!r}; accepted: a number >= "
                f"initial_delay_s ({self.initial_delay_s})"
            )

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return float(retry_after)
        return min(self.max_delay_s, self.initial_delay_s * (2 ** (retry - 1)))


def is_retryable(err: BaseException, conflict_means_busy: bool) -> bool:
    """429 and 5xx always; 409 only on writes to online endpoints and deployments, where it means
    another operation is still running; connection failures (no response) too."""
    if isinstance(err, (ServiceRequestError, ServiceResponseError)):
        return True
    status = status_of(err)
    if status is None:
        return False
    return status == 429 or 500 <= status <= 599 or (status == 409 and conflict_means_busy)


def retry_after_seconds(err: BaseException) -> float | None:
    response = getattr(err, "response", None) if isinstance(err, HttpResponseError) else None
    headers = getattr(response, "headers", None) or {}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) / 1000.0
            except ValueError:
                pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None  # an HTTP date: fall back to backoff


def call_with_retries(
    fn: Callable[[], T],
    *,
    operation: str,
    resource: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    conflict_means_busy: bool = False,
) -> T:
    """Run `fn` until it succeeds, a non-retryable error occurs, or `policy.attempts` calls are spent.
    Every failure leaves as an AzureMLError (NotFound for 404) naming operation, resource and status."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except AzureMLError:
            raise
        except Exception as err:  # azure-core and azure-ai-ml raise many types; all are translated
            if not is_retryable(err, conflict_means_busy) or attempt == policy.attempts:
                raise translate(err, operation, resource, attempt) from err
            delay = policy.delay(attempt, retry_after_seconds(err))
            log.warning(
                "Azure ML %s on %s answered %s; retry %d of %d in %.1f s",
                operation,
                resource,
                status_of(err) or type(err).__name__,
                attempt,
                policy.attempts - 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")
