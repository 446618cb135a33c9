"""WSGI middleware in front of the inference server's app: what /score must not accept is refused
before the server reads, parses, scores or logs it.

- Any method but POST (and OPTIONS, the CORS preflight azmlinfsrv answers itself) gets 405: azmlinfsrv
  would score `GET /score?texts=[...]` from the query string and log it. A query string on a POST is
  dropped: the body is what is scored, and azmlinfsrv would log the query.
- A body over the byte limit gets 413 from its Content-Length, never held in memory (up to
  DISCARD_MAX_BYTES it is read and dropped first, so the client gets the answer); a chunked body is read
  up to the limit and refused as soon as it passes it. azmlinfsrv reads any body whole into memory first.
- A body that does not arrive within the read timeout (ClientTooSlow from read_deadline_worker.py) gets
  408; malformed chunked framing gets 400.
A body that passes is handed on as bytes with its Content-Length, so the app reads it from memory.
Answers are JSON {"message": ..., "field": null}, like score.py's, and end the connection.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from http import HTTPStatus

from gunicorn.http.errors import ParseException

from scoring_request import RequestError, body_byte_limit, body_over_the_byte_limit

SCORE_PATH = "/score"
PASSED_METHODS = ("POST", "OPTIONS")
# A refused body of known length up to this size is read and dropped before the 413 (see _discard); a
# larger one is refused unread, and the client may see the connection close while it sends.
DISCARD_MAX_BYTES = 16 * 1024 * 1024
_READ_STEP = 64 * 1024
_SHOWN_CHARS = 120


class RequestGuard:
    def __init__(self, app, *, max_body_chars: int, read_timeout_seconds: float):
        self.app = app
        self.max_body_chars = max_body_chars
        self.read_timeout_seconds = read_timeout_seconds

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != SCORE_PATH:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "")
        if method not in PASSED_METHODS:
            error = RequestError(
                405, f'{method} /score is not accepted; accepted: POST /score with a JSON body {{"texts": [...]}}'
            )
            return _answer(start_response, error, [("Allow", ", ".join(PASSED_METHODS))])
        if method == "POST":
            try:
                body = self._read_body(environ)
            except RequestError as error:
                return _answer(start_response, error)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["QUERY_STRING"] = ""  # /score reads none, and azmlinfsrv logs it with the path
        return self.app(environ, start_response)

    def _read_body(self, environ) -> bytes:
        stream, limit = environ["wsgi.input"], body_byte_limit(self.max_body_chars)
        declared = int(environ.get("CONTENT_LENGTH") or -1)  # gunicorn has refused one that is not a number
        if declared > limit:
            if declared <= DISCARD_MAX_BYTES:
                _discard(stream, declared)
            raise body_over_the_byte_limit(f"{declared} bytes", self.max_body_chars)
        parts, size = [], 0
        try:
            while size <= limit:  # a chunked body is read one byte past the limit at most
                part = stream.read(min(_READ_STEP, limit + 1 - size))
                if not part:
                    break
                parts.append(part)
                size += len(part)
        except TimeoutError:
            raise RequestError(
                408,
                f"the request body did not arrive within {self.read_timeout_seconds} s; "
                "accepted: a whole request within SCORING_READ_TIMEOUT_SECONDS",
            ) from None
        except ParseException as error:
            raise RequestError(
                400,
                f"the chunked request body is malformed ({str(error)[:_SHOWN_CHARS]}); "
                "accepted: chunked framing as in RFC 9112, or a Content-Length",
            ) from None
        if size > limit:
            raise body_over_the_byte_limit(f"over {limit} bytes (chunked)", self.max_body_chars)
        return b"".join(parts)


def _discard(stream, size: int) -> None:
    """Read and drop `size` bytes of a refused body, within the read deadline: a client that sends its whole
    body before it reads the answer (http.client, requests) then gets the 413 rather than a broken pipe."""
    try:
        while size > 0:
            part = stream.read(min(_READ_STEP, size))
            if not part:
                return
            size -= len(part)
    except (OSError, ParseException):  # too slow (ClientTooSlow) or gone: the 413 goes out as it can
        return


def _answer(start_response, error: RequestError, headers: Sequence[tuple[str, str]] = ()):
    """The error as JSON, on a connection that then closes: the rest of a refused body is never read.
    gunicorn ignores a Connection header from the app; its start_response is a method of the Response,
    whose force_close() makes it answer `Connection: close` and close."""
    response = getattr(start_response, "__self__", None)
    if response is not None and hasattr(response, "force_close"):
        response.force_close()
    body = json.dumps(error.body()).encode("utf-8")
    start_response(
        f"{error.status} {HTTPStatus(error.status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers],
    )
    return [body]
