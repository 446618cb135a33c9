"""Hostile HTTP requests to the inference server, sent as raw bytes, and the answer each must get.

The JSON answers come from serving/request_guard.py (and azmlinfsrv for its own header checks); framing the
HTTP server cannot parse is answered by gunicorn itself with a short HTML page naming the header. None of
them may leave a traceback in the server log, and each is answered within the read timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from serving.scoring_request import body_byte_limit
from tests.serving.cases import LIMITS

GOOD_BODY = b'{"texts": ["bom dia"]}'
SECRET_TEXT = "segredo-do-cliente-7f3a"  # a text that must never reach the log
HEADERS = b"Host: localhost\r\nContent-Type: application/json\r\n"
BYTE_LIMIT = body_byte_limit(LIMITS.max_body_chars)


def post(headers: bytes, body: bytes = b"", target: bytes = b"/score") -> bytes:
    return b"POST " + target + b" HTTP/1.1\r\n" + HEADERS + headers + b"\r\n" + body


def chunked(*chunks: bytes, end: bool = True) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + (b"0\r\n\r\n" if end else b"")


@dataclass(frozen=True)
class HostileRequest:
    name: str
    data: bytes  # sent as it is on a fresh connection, which then stays open
    status: int | None  # None: the server closes the connection without an answer
    message_part: str = ""  # must appear in the answer's message (JSON) or page (HTML)
    json_answer: bool = True
    method: str = "POST"  # how to read the answer (a HEAD answer has no body)


HOSTILE_REQUESTS = [
    HostileRequest(
        "GET with texts in the query",
        b"GET /score?texts=[%22" + SECRET_TEXT.encode() + b"%22] HTTP/1.1\r\nHost: localhost\r\n\r\n",
        405,
        "GET /score is not accepted",
        method="GET",
    ),
    HostileRequest("HEAD", b"HEAD /score HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, method="HEAD"),
    HostileRequest(
        "PUT with a valid body",
        b"PUT /score HTTP/1.1\r\n" + HEADERS + b"Content-Length: %d\r\n\r\n" % len(GOOD_BODY) + GOOD_BODY,
        405,
        "PUT /score is not accepted",
        method="PUT",
    ),
    HostileRequest(
        "DELETE",
        b"DELETE /score HTTP/1.1\r\nHost: localhost\r\n\r\n",
        405,
        "DELETE /score is not accepted",
        method="DELETE",
    ),
    HostileRequest(
        "300 MB Content-Length, body never sent",
        post(b"Content-Length: 300000000\r\n"),
        413,
        f"is 300000000 bytes; accepted: at most {BYTE_LIMIT} bytes",
    ),
    HostileRequest(
        "300 MB Content-Length behind Expect: 100-continue",
        post(b"Expect: 100-continue\r\nContent-Length: 300000000\r\n"),
        413,
        "is 300000000 bytes",
    ),
    HostileRequest(
        "chunked body past the limit, never ended",
        post(
            b"Transfer-Encoding: chunked\r\n",
            chunked(b"a" * (BYTE_LIMIT // 2), b"b" * (BYTE_LIMIT // 2), b"c", end=False),
        ),
        413,
        f"is over {BYTE_LIMIT} bytes (chunked); accepted: at most {BYTE_LIMIT} bytes",
    ),
    HostileRequest(
        "body 1 MB over the limit, sent whole before the answer is read",
        post(b"Content-Length: %d\r\n" % (BYTE_LIMIT + 10**6), b"a" * (BYTE_LIMIT + 10**6)),
        413,
        f"is {BYTE_LIMIT + 10**6} bytes; accepted: at most {BYTE_LIMIT} bytes",
    ),
    HostileRequest(
        "malformed chunk size",
        post(b"Transfer-Encoding: chunked\r\n", b"zz\r\nabc\r\n0\r\n\r\n"),
        400,
        "the chunked request body is malformed (Invalid chunk size",
    ),
    HostileRequest(
        "body stops halfway",
        post(b"Content-Length: 100\r\n", b'{"texts": ["bo'),
        408,
        "the request body did not arrive within",
    ),
    HostileRequest(
        "chunked body stops halfway",
        post(b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s" % (len(GOOD_BODY), GOOD_BODY[:5])),
        408,
        "the request body did not arrive within",
    ),
    HostileRequest("headers stop halfway", b"POST /score HTTP/1.1\r\nHost: localhost\r\n", None),
    HostileRequest("connection that sends nothing", b"", None),
    HostileRequest(
        "Content-Length not a number",
        post(b"Content-Length: abc\r\n"),
        400,
        "Invalid HTTP Header: &#x27;CONTENT-LENGTH&#x27;",
        json_answer=False,
    ),
    HostileRequest(
        "two Content-Lengths",
        post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"12345"),
        400,
        "Invalid HTTP Header: &#x27;CONTENT-LENGTH&#x27;",
        json_answer=False,
    ),
    HostileRequest(
        "Content-Length and chunked (smuggling)",
        post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked(GOOD_BODY)),
        400,
        "Invalid HTTP Header: &#x27;CONTENT-LENGTH&#x27;",
        json_answer=False,
    ),
    HostileRequest(
        "unsupported transfer coding",
        post(b"Transfer-Encoding: gzip\r\n"),
        400,
        "Invalid HTTP Header: &#x27;TRANSFER-ENCODING&#x27;",
        json_answer=False,
    ),
    HostileRequest(
        "request line over 4094 bytes",
        b"GET /score?texts=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        414,
        "Request Line is too large (5026 &gt; 4094)",
        json_answer=False,
        method="GET",
    ),
    HostileRequest(
        "NUL byte in a header",
        b"POST /score HTTP/1.1\r\nHost: local\x00host\r\n\r\n",
        400,
        "Invalid HTTP Header: &#x27;HOST&#x27;",
        json_answer=False,
    ),
    HostileRequest(
        "x-request-id over 100 characters",
        post(b"x-request-id: " + b"r" * 200 + b"\r\nContent-Length: %d\r\n" % len(GOOD_BODY), GOOD_BODY),
        431,
        "x-request-id must not exceed 100 characters",
    ),
]

# Requests that look odd but are served: the guard passes them on whole.
SERVED_REQUESTS = [
    ("chunked body within the limit", post(b"Transfer-Encoding: chunked\r\n", chunked(GOOD_BODY[:7], GOOD_BODY[7:]))),
    (
        "query string on a POST (dropped, not logged)",
        post(b"Content-Length: %d\r\n" % len(GOOD_BODY), GOOD_BODY, target=b"/score?texts=" + SECRET_TEXT.encode()),
    ),
    ("HTTP/1.0", b"POST /score HTTP/1.0\r\n" + HEADERS + b"Content-Length: %d\r\n\r\n" % len(GOOD_BODY) + GOOD_BODY),
]
