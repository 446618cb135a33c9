"""In-process HTTP plumbing for fakes served through an azure-core transport.

`InProcessTransport` is a real `azure.core.pipeline.transport.RequestsTransport` whose requests
session answers every https request by calling a Python handler instead of opening a socket, so
every azure-core feature (rest and legacy responses, streaming, retry and polling policies) runs
unchanged. Its `sleep` (used by azure-core's retry policy and LRO pollers) records the delay and
returns at once; the recorded delays are in `transport.sleeps`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse
from urllib3.exceptions import ProtocolError


@dataclass
class Request:
    """One request as the fake sees it: host, path, decoded query and JSON body (or raw text)."""

    method: str
    url: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @classmethod
    def from_prepared(cls, prepared: requests.PreparedRequest) -> Request:
        parts = urlsplit(prepared.url)
        raw = prepared.body
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        return cls(
            method=prepared.method.upper(),
            url=prepared.url,
            host=parts.hostname or "",
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in prepared.headers.items()},
            body=body,
        )


@dataclass
class Response:
    status: int | None  # None: the connection drops without an answer
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    lost: bool = False  # the server handled the request but the answer never arrives

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.body is None:
            return b"", headers
        if isinstance(self.body, (bytes, str)):
            data = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return data, headers
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return json.dumps(self.body).encode("utf-8"), headers


Handler = Callable[[Request], Response]


class _HandlerAdapter(BaseAdapter):
    def __init__(self, handler: Handler):
        super().__init__()
        self._handler = handler

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        response = self._handler(Request.from_prepared(request))
        if response.lost:  # azure-core raises ServiceResponseError: the request may have been applied
            raise requests.exceptions.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionResetError("reset by the fake")), request=request
            )
        if response.status is None:  # azure-core raises ServiceRequestError: nothing reached the server
            raise requests.exceptions.ConnectionError("connection refused by the fake", request=request)
        data, headers = response.encoded()
        headers["Content-Length"] = str(len(data))
        raw = HTTPResponse(
            body=io.BytesIO(data),
            headers=headers,
            status=response.status,
            preload_content=False,
            decode_content=False,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self):
        pass


class InProcessTransport(RequestsTransport):
    """A RequestsTransport whose session calls `handler` for every http(s) request."""

    def __init__(self, handler: Handler):
        session = requests.Session()
        adapter = _HandlerAdapter(handler)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        super().__init__(session=session, session_owner=False)
        self.sleeps: list[float] = []

    def sleep(self, duration: float) -> None:
        self.sleeps.append(float(duration))
