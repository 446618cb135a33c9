"""How a training loop reports on stderr: a tqdm bar on a terminal, one line per epoch elsewhere, nothing when quiet.

A CI log is a pipe or a file, where a bar is either hidden or a stream of carriage-return redraws;
there each epoch ends with one line instead, e.g.
    fine-tuning epoch 3/12: loss 0.4121, val_loss 0.3890, val_macro_f1 0.8120, threshold 0.4700, elapsed 12.3 s
The bar shows a validation figure only once an epoch has been validated, never a 0 before it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm.auto import tqdm


class Progress:
    """Progress of one training phase of `epochs` epochs and `total_steps` optimiser steps.

    Use as a context manager: `step` after every batch, `epoch_done` after every epoch.
    """

    def __init__(self, total_steps: int, epochs: int, description: str, quiet: bool, stream: TextIO | None = None):
        self._stream = sys.stderr if stream is None else stream
        self._description = description
        self._epochs = epochs
        self._started = time.monotonic()
        on_terminal = not quiet and self._stream.isatty()
        self._lines = not quiet and not on_terminal
        self._bar = tqdm(total=total_steps, desc=description, file=self._stream, leave=False) if on_terminal else None
        self._validated: dict[str, str] = {}  # the last epoch's validation figures, as the bar shows them

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()

    def step(self, epoch: int, loss: float | None = None) -> None:
        """One batch done; `loss` None for a batch that trained nothing."""
        if self._bar is None:
            return
        self._bar.update(1)
        if loss is not None:
            self._bar.set_postfix({"epoch": epoch, "loss": f"{loss:.3f}", **self._validated})

    def epoch_done(self, epoch: int, loss: float, **validation: float) -> None:
        """Epoch `epoch` (from 1) done, with its mean training loss and its validation figures, if any."""
        if self._bar is not None:
            self._validated = {name: f"{value:.3f}" for name, value in validation.items()}
            self._bar.set_postfix({"epoch": epoch, "loss": f"{loss:.3f}", **self._validated})
        if self._lines:
            figures = ", ".join(f"{name} {value:.4f}" for name, value in {"loss": loss, **validation}.items())
            elapsed = time.monotonic() - self._started
            self._stream.write(
                f"{self._description} epoch {epoch}/{self._epochs}: {figures}, elapsed {elapsed:.1f} s\n"
            )  # one write: the other ranks of a torchrun share this log with their own lines
            self._stream.flush()
