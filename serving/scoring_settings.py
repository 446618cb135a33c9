"""Settings of the scoring script and its server, read from environment variables (set on the deployment).

score.py reads the model and request limits; gunicorn_config.py reads the body limit, the read timeout and the
threads per worker, so the limits the server enforces before a body is read are the ones the script checks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PRECISIONS = ("int8", "fp32")


class SettingsError(ValueError):
    """An environment variable of the scoring script has a value it does not accept."""


@dataclass(frozen=True)
class ScoringSettings:
    precision: str = "int8"  # SCORING_PRECISION: which ONNX file to serve
    intra_op_threads: int = 1  # SCORING_INTRA_OP_THREADS: onnxruntime threads inside one operator
    inter_op_threads: int = 1  # SCORING_INTER_OP_THREADS: onnxruntime threads across operators
    max_texts: int = 64  # SCORING_MAX_TEXTS: texts per request
    max_text_chars: int = 2000  # SCORING_MAX_TEXT_CHARS: characters per text (longer: rejected)
    max_body_chars: int = 1_000_000  # SCORING_MAX_BODY_CHARS: characters of the whole request body
    model_version: str | None = None  # SCORING_MODEL_VERSION: version reported in responses
    read_timeout_seconds: int = 5  # SCORING_READ_TIMEOUT_SECONDS: time a client has to send one request
    threads_per_worker: int = 4  # SCORING_THREADS_PER_WORKER: connections one server worker serves at once

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ScoringSettings:
        defaults = cls()
        settings = cls(
            precision=_choice(environ, "SCORING_PRECISION", defaults.precision, PRECISIONS),
            intra_op_threads=_integer(environ, "SCORING_INTRA_OP_THREADS", defaults.intra_op_threads, 1, 64),
            inter_op_threads=_integer(environ, "SCORING_INTER_OP_THREADS", defaults.inter_op_threads, 1, 64),
            max_texts=_integer(environ, "SCORING_MAX_TEXTS", defaults.max_texts, 1, 10_000),
            max_text_chars=_integer(environ, "SCORING_MAX_TEXT_CHARS", defaults.max_text_chars, 1, 1_000_000),
            max_body_chars=_integer(environ, "SCORING_MAX_BODY_CHARS", defaults.max_body_chars, 100, 100_000_000),
            model_version=environ.get("SCORING_MODEL_VERSION", "").strip() or None,
            read_timeout_seconds=_integer(
                environ, "SCORING_READ_TIMEOUT_SECONDS", defaults.read_timeout_seconds, 1, 300
            ),
            threads_per_worker=_integer(environ, "SCORING_THREADS_PER_WORKER", defaults.threads_per_worker, 1, 64),
        )
        if settings.max_body_chars < settings.max_text_chars:
            raise SettingsError(
                f"SCORING_MAX_BODY_CHARS ({settings.max_body_chars}) is below SCORING_MAX_TEXT_CHARS "
                f"({settings.max_text_chars}); accepted: a body limit that fits at least one text"
            )
        return settings


def _choice(environ: Mapping[str, str], name: str, default: str, accepted: tuple[str, ...]) -> str:
    value = environ.get(name, "").strip() or default
    if value not in accepted:
        raise SettingsError(f"{name} is {value!r}; accepted: one of {list(accepted)}")
    return value


def _integer(environ: Mapping[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} is {text!r}; accepted: an integer from {lowest} to {highest}") from None
    if not lowest <= value <= highest:
        raise SettingsError(f"{name} is {value}; accepted: an integer from {lowest} to {highest}")
    return value
