"""gunicorn settings of the scoring server, loaded by the gunicorn azmlinfsrv starts when the deployment sets
    GUNICORN_CMD_ARGS="--config python:gunicorn_config"
(gunicorn reads GUNICORN_CMD_ARGS and imports the module from sys.path, to which azmlinfsrv has added
AML_APP_ROOT, this folder). azmlinfsrv 1.5.1 starts gunicorn with `-w WORKER_COUNT --timeout WORKER_TIMEOUT
--access-logfile - --error-logfile /dev/null` and its app (amlserver_linux.py); those command-line settings
win over these, every other setting is taken from here. A bad SCORING_* value stops gunicorn at start with
one line naming it.
"""

from __future__ import annotations

from read_deadline_worker import ReadDeadlineWorker
from request_guard import RequestGuard
from scoring_settings import ScoringSettings

_settings = ScoringSettings.from_env()

worker_class = ReadDeadlineWorker
threads = _settings.threads_per_worker
# A worker takes no more connections than it has threads: one whose threads are all busy (slow clients)
# stops accepting, and the next connection goes to a worker that can serve it at once.
worker_connections = threads
# One request per connection, as with azmlinfsrv's sync workers (which close after every answer): a proxy in
# front never reuses a kept-alive connection just as the server closes it.
keepalive = 0
# Method and path only: a query string can carry texts (GET /score?texts=[...] is refused, and still logged).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def post_worker_init(worker) -> None:
    """Put RequestGuard in front of azmlinfsrv's app, once the worker has loaded it (and run init())."""
    worker.wsgi = RequestGuard(
        worker.wsgi, max_body_chars=_settings.max_body_chars, read_timeout_seconds=_settings.read_timeout_seconds
    )
