"""The real inference server under hostile HTTP: slow clients, bodies over the limit, other methods, broken
framing. The server runs as deployed: serving/gunicorn_config.py (threaded workers with a read deadline,
request_guard.py in front of azmlinfsrv's app), two workers as on the platform's slots.

Every connection is to 127.0.0.1, every read has a timeout and every loop a fixed count.
"""

from __future__ import annotations

import select
import time

import pytest

from scripts.local_server import LocalInferenceServer, peak_rss_mib, read_reply
from serving.scoring_request import body_byte_limit
from tests.serving.cases import LIMITS
from tests.serving.conftest import SERVER_WORKERS
from tests.serving.hostile_http import GOOD_BODY, HOSTILE_REQUESTS, SECRET_TEXT, SERVED_REQUESTS, chunked, post

pytestmark = pytest.mark.slow

QUICK_READ_TIMEOUT = 1  # seconds, for the corpus: a slow case is answered after this
DEFAULT_READ_TIMEOUT = LIMITS.read_timeout_seconds  # the session server's
HALF_A_BODY = post(b"Content-Length: 100\r\n", b'{"texts": ["bo')


@pytest.fixture(scope="module")
def quick_server(tiny_model_dir, tmp_path_factory):
    running = LocalInferenceServer(
        tiny_model_dir,
        tmp_path_factory.mktemp("azmlinfsrv-hostile") / "server.log",
        env={"WORKER_COUNT": str(SERVER_WORKERS), "SCORING_READ_TIMEOUT_SECONDS": str(QUICK_READ_TIMEOUT)},
    )
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def _log_since(server: LocalInferenceServer, offset: int) -> str:
    time.sleep(0.1)  # the worker writes its log lines just after the answer
    return server.log()[offset:]


@pytest.mark.parametrize("case", HOSTILE_REQUESTS, ids=lambda case: case.name)
def test_hostile_request_gets_one_clear_answer_in_time_and_leaves_no_traceback(quick_server, case):
    offset = len(quick_server.log())
    started = time.monotonic()
    reply = quick_server.send_raw(case.data, method=case.method, timeout=QUICK_READ_TIMEOUT + 10)
    assert time.monotonic() - started < QUICK_READ_TIMEOUT + 2
    if case.status is None:
        assert reply is None, "the server closes the connection without an answer"
    else:
        assert reply is not None and reply.status == case.status
        if case.method != "HEAD":
            if case.json_answer:
                body = reply.json()
                assert case.message_part in body["message"]
                assert body.get("field") is None
            else:
                assert reply.headers["Content-Type"].startswith("text/html")
                assert case.message_part in reply.body.decode()
    log = _log_since(quick_server, offset)
    assert "Traceback" not in log and SECRET_TEXT not in log


@pytest.mark.parametrize("name, data", SERVED_REQUESTS, ids=[name for name, _ in SERVED_REQUESTS])
def test_odd_but_valid_request_is_scored(quick_server, name, data):
    offset = len(quick_server.log())
    reply = quick_server.send_raw(data)
    assert reply.status == 200 and len(reply.json()["predictions"]) == 1
    log = _log_since(quick_server, offset)
    assert "Traceback" not in log and SECRET_TEXT not in log


def test_server_serves_after_the_hostile_corpus(quick_server):
    for case in HOSTILE_REQUESTS:
        quick_server.send_raw(case.data, method=case.method, timeout=QUICK_READ_TIMEOUT + 10)
    assert quick_server.score(GOOD_BODY).status == 200


def test_good_request_is_answered_within_a_second_while_slow_clients_hold_every_worker(server):
    """As many clients as workers send half a body and stop. Sync workers would each wait for the rest until
    WORKER_TIMEOUT (300 s); threaded workers answer the good request at once, and the slow ones get 408
    when their read timeout ends."""
    slow = [server.connect(timeout=DEFAULT_READ_TIMEOUT + 10) for _ in range(SERVER_WORKERS)]
    try:
        slow_started = time.monotonic()
        for sock in slow:
            sock.sendall(HALF_A_BODY)
        time.sleep(0.5)  # the workers have taken up the slow requests and wait for their bodies
        started = time.monotonic()
        reply = server.request("POST", "/score", GOOD_BODY, {"Content-Type": "application/json"}, timeout=10)
        answered_in = time.monotonic() - started
        assert reply.status == 200 and len(reply.json()["predictions"]) == 1
        assert answered_in < 1.0, f"the good request waited {answered_in:.2f} s behind the slow clients"
        waiting, _, _ = select.select(slow, [], [], 0)
        assert waiting == [], "the slow clients are still being waited for"
        for sock in slow:
            late = read_reply(sock)
            assert late.status == 408 and "did not arrive within" in late.json()["message"]
        assert time.monotonic() - slow_started < DEFAULT_READ_TIMEOUT + 2
    finally:
        for sock in slow:
            sock.close()


def test_connections_that_send_nothing_hold_no_thread_for_long(server):
    """As many idle connections as the server has threads: each holds a thread for a second at most
    (gunicorn's own wait is 5 s), then waits in the poller, and is closed within a second more."""
    idle = [server.connect(timeout=10) for _ in range(SERVER_WORKERS * LIMITS.threads_per_worker)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        reply = server.request("POST", "/score", GOOD_BODY, {"Content-Type": "application/json"}, timeout=10)
        # a second of waiting for a first byte, then up to a second in the poller before it is closed
        assert reply.status == 200 and time.monotonic() - started < 3.0
        for sock in idle:
            sock.settimeout(5)
            assert sock.recv(1) == b"", "the server closes an idle connection"
    finally:
        for sock in idle:
            sock.close()


def test_clients_that_never_close_hold_a_thread_not_the_server(server):
    """Clients read their answer and keep the connection open: gunicorn waits up to 2 s for a client's own
    close. In gthread's main loop that wait stalled the whole worker (accepting, and the completion of every
    other request); here it holds the finished request's thread only."""
    lingering = []
    try:
        started = time.monotonic()
        for _ in range(2 * SERVER_WORKERS):  # within one worker's threads, and more than one per worker
            sock = server.connect(timeout=10)
            lingering.append(sock)
            sock.sendall(post(b"Content-Length: %d\r\n" % len(GOOD_BODY), GOOD_BODY))
            assert read_reply(sock).status == 200
        reply = server.request("POST", "/score", GOOD_BODY, {"Content-Type": "application/json"}, timeout=10)
        assert reply.status == 200 and time.monotonic() - started < 1.5
    finally:
        for sock in lingering:
            sock.close()


def test_body_over_the_limit_is_refused_from_its_content_length_before_it_is_sent(server):
    """Only the headers of a 300 MB request are sent: the 413 comes at once, not after the read timeout, so
    the server neither waited for the body nor read it."""
    with server.connect(timeout=DEFAULT_READ_TIMEOUT + 10) as sock:
        sock.sendall(post(b"Content-Length: 300000000\r\n"))
        started = time.monotonic()
        reply = read_reply(sock)
        assert time.monotonic() - started < 1.0
        assert reply.status == 413 and reply.headers["Connection"] == "close"
        assert "is 300000000 bytes" in reply.json()["message"] and reply.json()["field"] is None
        sock.settimeout(5)
        assert sock.recv(1) == b"", "the server closes the connection"


def test_chunked_body_is_refused_as_soon_as_it_passes_the_limit(server):
    """A chunked body one byte over the limit, never ended: refused at once with 413 (a server that read it
    whole would wait for the end and answer 408 after the read timeout)."""
    limit = body_byte_limit(LIMITS.max_body_chars)
    with server.connect(timeout=DEFAULT_READ_TIMEOUT + 10) as sock:
        sock.sendall(post(b"Transfer-Encoding: chunked\r\n", chunked(b"a" * limit, b"b", end=False)))
        started = time.monotonic()
        reply = read_reply(sock)
        assert time.monotonic() - started < 1.0
        assert reply.status == 413 and f"is over {limit} bytes (chunked)" in reply.json()["message"]


def test_streaming_300_mb_leaves_the_workers_peak_memory_bounded(server):
    """A client streams up to 300 MB (Content-Length, then chunked): the workers' peak resident memory grows
    by a few MiB at most (the chunked read stops one byte past the 4 MB limit), where reading the body whole
    took 663 MB."""
    before = {pid: peak_rss_mib(pid) for pid in server.worker_pids()}
    block = b"a" * (1 << 20)
    for head, frame in (
        (post(b"Content-Length: 300000000\r\n"), lambda data: data),
        (post(b"Transfer-Encoding: chunked\r\n"), lambda data: b"%x\r\n%s\r\n" % (len(data), data)),
    ):
        with server.connect(timeout=10) as sock:
            sock.sendall(head)
            try:
                for _ in range(300):  # 300 MiB at most; the server stops reading and closes long before
                    sock.sendall(frame(block))
            except (BrokenPipeError, ConnectionResetError):
                pass
    after = {pid: peak_rss_mib(pid) for pid in before}
    assert len(before) == SERVER_WORKERS
    assert max(after[pid] - before[pid] for pid in before) < 32, (before, after)
    assert server.score(GOOD_BODY).status == 200


def test_get_on_score_is_refused_without_scoring_or_logging_the_texts(server):
    offset = len(server.log())
    reply = server.request("GET", f'/score?texts=["{SECRET_TEXT}"]'.replace('"', "%22"))
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST, OPTIONS"
    assert "x-ms-run-fn-exec-ms" not in reply.headers, "run() was not called"
    assert reply.json() == {
        "message": 'GET /score is not accepted; accepted: POST /score with a JSON body {"texts": [...]}',
        "field": None,
    }
    log = _log_since(server, offset)
    assert SECRET_TEXT not in log
    assert '"GET /score HTTP/1.1" 405' in log, "the access log records the method and path only"


def test_slow_headers_are_dropped_at_the_read_timeout(quick_server):
    """Headers that stop halfway hold a thread only until the read timeout: then the connection closes."""
    with quick_server.connect(timeout=QUICK_READ_TIMEOUT + 10) as sock:
        sock.sendall(b"POST /score HTTP/1.1\r\nHost: localhost\r\nContent-")
        started = time.monotonic()
        try:
            closed = sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
        assert closed and QUICK_READ_TIMEOUT - 0.2 < time.monotonic() - started < QUICK_READ_TIMEOUT + 2


def test_a_trickling_body_is_cut_at_the_read_timeout_not_per_read(quick_server):
    """The deadline is for the whole request: one byte every 0.3 s keeps every read short, yet the request
    is answered 408 once the read timeout has passed since its first byte."""
    with quick_server.connect(timeout=QUICK_READ_TIMEOUT + 10) as sock:
        started = time.monotonic()
        sock.sendall(post(b"Content-Length: 1000\r\n"))
        for byte in (b'{"texts": ["' + b"a" * 20)[:10]:  # 3 s of trickle, well past the read timeout
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            readable, _, _ = select.select([sock], [], [], 0.3)
            if readable:
                break
        reply = read_reply(sock)
        assert reply.status == 408
        assert time.monotonic() - started < QUICK_READ_TIMEOUT + 1
