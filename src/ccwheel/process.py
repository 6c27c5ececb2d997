"""What one run changes in ccwheel's own process while cibuildwheel runs in it: SIGTERM
raised as an interrupt, the remote storage URL under ccwheel's private name, a variable
set aside. Each is put back afterwards: `main()` may be called again in the same
process."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Iterator

from ccwheel import remote


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every context manager on the way out runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def remote_in_environment(url: str, read_only: bool, name: str) -> Iterator[None]:
    """The remote storage URL under `name` in this process's environment, for the
    container engine's `--env NAME` to copy into each container: it never touches a file
    (a killed run leaves nothing behind) or a printed command line."""
    if not url:
        yield
        return
    previous = os.environ.get(name)
    os.environ[name] = remote.with_read_only(url) if read_only else url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def without_env(name: str) -> Iterator[None]:
    """`name` out of this process's environment while the context lasts."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved
