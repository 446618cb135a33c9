"""Keeping secrets out of the report.

Pulumi marks a secret in state as an object carrying the signature key below with the secret
signature as its value (then "ciphertext", or "plaintext" under --show-secrets). History config
entries carry "secret": true. Dynamic resources carry their pickled provider in `__provider`.
"""

from typing import Any

SIG_KEY = "4dabf18193072939515e22adc298c5c1"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"
ENGINE_KEYS = ("__provider",)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def redact(value: Any) -> Any:
    """A copy of a state value with every secret replaced by [secret] and engine keys dropped."""
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if k not in ENGINE_KEYS}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
