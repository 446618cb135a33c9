"""The kinds of failure the model commands report; model/__main__.py maps each to one exit status.

Bad input is a ValueError naming the option, file or setting and what is accepted (DataError,
OutputError, serving's ArtifactError, the settings checks): exit 2. A CheckFailed means the work ran
but its result failed a check, so nothing is released: exit 1. No torch here, so the evaluate and
compare commands start without it.
"""


class CheckFailed(RuntimeError):
    """The result of a command failed a check it must pass before it is written."""
