"""The kinds of failure the model commands report; model/__main__.py maps each to one exit status.

Bad input is a ValueError naming the option, file or setting and what is accepted (DataError,
OutputError, serving's ArtifactError, the settings checks): exit 2. A CheckFailed means the work ran
but its result failed a check, so nothing is released: exit 1; so does a training job that did not
complete (JobFailed). No torch here, so the evaluate and compare commands start without it.
"""


class CheckFailed(RuntimeError):
    """The result of a command failed a check it must pass before it is written."""


class JobFailed(RuntimeError):
    """A training job submitted to Azure ML did not complete (it failed, was canceled or stopped
    responding, or outlived the wait), or Azure ML refused a call: exit 1, the message names the job."""


class LeftRunning(KeyboardInterrupt):
    """Interrupted while waiting for a job that keeps running in Azure ML: exit 130, the message names it."""
