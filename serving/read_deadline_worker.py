"""The gunicorn worker of the scoring server: gunicorn's threaded worker (gthread) with a read deadline.

azmlinfsrv runs gunicorn's default sync worker: one request at a time per process, read from a blocking
socket, so a client that sends half a body holds a whole worker until WORKER_TIMEOUT (300 s) kills it.
gthread serves several connections per process and parks a connection that sends nothing for 5 s in its
poller, but once a request has begun it reads from a blocking socket without a timeout (gunicorn 27.0.1,
`gthread.ThreadWorker.handle`), so a client that stops halfway still holds a thread for ever.

Here every request, headers and body, must arrive within SCORING_READ_TIMEOUT_SECONDS of its first byte.
A request that does not raises ClientTooSlow from the socket read: gunicorn closes a connection whose
headers time out (it treats them as a client that went away), and request_guard.py answers 408 to one whose
body times out. A new connection gets a thread for FIRST_BYTE_WAIT_SECONDS, not 5 s, and a finished one is
closed by its own thread, not by the worker's main loop (see ReadDeadlineWorker.handle).
This subclasses gunicorn internals (TConn, SocketUnreader, Parser.unreader, ThreadWorker.accept and
handle) of the version pinned in environment/requirements.txt; tests/serving/test_hostile_http.py shows
the behaviour.
"""

from __future__ import annotations

import errno
import time

from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import Parser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread

from scoring_settings import ScoringSettings

# How long a thread waits for a new connection's first byte before the connection waits in the poller,
# holding no thread (gunicorn's own wait, 5 s, let idle connections hold every thread).
FIRST_BYTE_WAIT_SECONDS = 1.0


class ClientTooSlow(NoMoreData, TimeoutError):
    """The client did not send the whole request within the read timeout.

    A NoMoreData, so gunicorn's worker handles it as a client that went away (closes quietly); a
    TimeoutError, so whoever reads the body can tell it apart from other read errors."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def __str__(self) -> str:
        return f"the request did not arrive within {self.seconds} s"


class _DeadlineUnreader(SocketUnreader):
    """Reads of one connection, each bounded by what is left of the current request's deadline."""

    def __init__(self, sock, seconds: float):
        super().__init__(sock)
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def start_request(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def chunk(self, size_hint=None):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ClientTooSlow(self.seconds)
        self.sock.settimeout(remaining)
        try:
            # types-gunicorn 26.2 (the newest) still types chunk() without gunicorn 27's size_hint
            return super().chunk(size_hint)  # type: ignore[call-arg]
        except TimeoutError:  # socket.timeout is TimeoutError
            raise ClientTooSlow(self.seconds) from None
        finally:
            try:
                self.sock.settimeout(self.seconds)  # writing the answer gets a bound too
            except OSError:  # the socket is closed already
                pass


class _DeadlineConn(gthread.TConn):
    """A connection whose parser reads through a _DeadlineUnreader, restarted for every request."""

    def __init__(self, cfg, sock, client, server, read_timeout_seconds: float):
        super().__init__(cfg, sock, client, server)
        self.read_timeout_seconds = read_timeout_seconds
        self.closed = False

    def close(self, graceful=False):
        if not self.closed:  # closed once: by the request's thread (see ReadDeadlineWorker.handle) or the loop
            self.closed = True
            super().close(graceful)

    def wait_for_data(self, timeout):
        # gthread holds a thread up to 5 s for a new connection's first byte, then parks it in the poller.
        return super().wait_for_data(min(timeout, FIRST_BYTE_WAIT_SECONDS))

    def init(self):
        super().init()  # runs before every request of the connection; makes the parser on the first
        parser = self.parser
        if self.is_http2 or not isinstance(parser, Parser):  # an HTTP/2 connection has no unreader
            return
        unreader = parser.unreader
        if not isinstance(unreader, _DeadlineUnreader):
            timed = _DeadlineUnreader(self.sock, self.read_timeout_seconds)
            timed.buf = unreader.buf  # nothing read yet, but keep it if there is
            parser.unreader = unreader = timed
        unreader.start_request()


class ReadDeadlineWorker(gthread.ThreadWorker):
    """gthread whose connections are _DeadlineConn (threads per worker: SCORING_THREADS_PER_WORKER)."""

    def init_process(self):
        self.read_timeout_seconds = ScoringSettings.from_env().read_timeout_seconds
        super().init_process()  # serves until the worker stops

    def handle(self, conn):
        keep = super().handle(conn)
        if keep is False:
            # gthread closes a finished connection from its main loop, gracefully: it waits up to 2 s for the
            # client's own close, and a client that never closes stalls accepting and every other request's
            # completion for that long. Closing it here holds only this request's thread.
            conn.close(graceful=True)
        return keep

    def accept(self, listener):
        # gunicorn 27.0.1 ThreadWorker.accept, making a _DeadlineConn instead of a TConn.
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = _DeadlineConn(self.cfg, client_sock, client_addr, listener.getsockname(), self.read_timeout_seconds)
            self.enqueue_req(conn)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
