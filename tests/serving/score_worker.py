"""Runs serving/score.py inside venv-serving (its real environment) and calls init()/run() on request.

The main test venv cannot import score.py (the inference server package clashes with pulumi's pins),
so tests drive this worker over stdin/stdout, one JSON object per line:
  {"op": "load"}                                   fresh import of score.py, as azmlinfsrv does
  {"op": "init", "env": {"NAME": "value"|null}}    set/unset environment variables, call init()
  {"op": "run", "raw_data": "...", "headers": {}}  call run() and describe what it returned
Answers: {"ok": true, ...} or {"ok": false, "error": "<type>: <message>"} when the call raised.
"""

import importlib.util
import json
import os
import sys
import traceback

SCORE_PATH = sys.argv[1]
sys.path.append(os.path.dirname(os.path.abspath(SCORE_PATH)))  # azmlinfsrv puts its app root on sys.path

from flask import Response  # noqa: E402  (venv-serving only)

module = None
protocol, sys.stdout = sys.stdout, sys.stderr  # stray prints must not corrupt the answers


def load():
    global module
    spec = importlib.util.spec_from_file_location("entry_module", SCORE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {}


def init(env):
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    module.init()
    return {}


def run(raw_data, headers):
    result = module.run(raw_data, headers) if headers is not None else module.run(raw_data)
    if isinstance(result, Response):
        return {
            "kind": "response",
            "status": result.status_code,
            "content_type": result.mimetype,
            "body": result.get_data(as_text=True),
        }
    return {"kind": "value", "value": result, "json": json.dumps(result)}


def handle(request):
    if request["op"] == "load":
        return load()
    if request["op"] == "init":
        return init(request.get("env", {}))
    if request["op"] == "run":
        return run(request["raw_data"], request.get("headers"))
    raise ValueError(f"unknown op {request['op']!r}")


for line in sys.stdin:
    try:
        answer = {"ok": True, **handle(json.loads(line))}
    except BaseException as error:  # report everything: a raising run() is what the tests look for
        answer = {"ok": False, "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    protocol.write(json.dumps(answer) + "\n")
    protocol.flush()
