"""A package index on the host's loopback for the download-cache test and the benchmark:
the wheelhouse served over HTTP as a find-links page, as an index serves it (wheels as
immutable, cacheable responses, like PyPI's files), counting what it sends. Containers
reach it with --network=host."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wheel_bytes = 0
        self.wheels = 0

    def reset(self) -> None:
        with self.lock:
            self.wheel_bytes = self.wheels = 0


class _Handler(http.server.SimpleHTTPRequestHandler):
    counter: Counter

    def end_headers(self) -> None:
        if self.path.endswith(".whl"):
            # PyPI's files: cacheable for ever (their names never change content).
            self.send_header("Cache-Control", "max-age=365000000, immutable, public")
        else:
            self.send_header("Cache-Control", "max-age=0, no-cache")
        super().end_headers()

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        data = source.read()
        if self.path.endswith(".whl"):
            with self.counter.lock:
                self.counter.wheel_bytes += len(data)
                self.counter.wheels += 1
        outputfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[tuple[str, Counter]]:
    """(the find-links URL, its counter) while the server runs."""
    counter = Counter()
    handler = type("Handler", (_Handler,), {"counter": counter})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", counter
    finally:
        server.shutdown()
        server.server_close()


def environment(url: str, wheelhouse: Path) -> dict[str, str]:
    """A user's settings for that index: pip finds everything there and nowhere else, in
    containers on the host's network. pip caches plain-HTTP responses only from trusted
    hosts (a real index is HTTPS, which it caches anyway). For pip and pypa/build; this
    image's uv takes its index from a configuration file only."""
    host = url.split("/")[2]
    return {
        "CIBW_CONTAINER_ENGINE": "docker; create_args: --network=host",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": url,
        "PIP_TRUSTED_HOST": host,
        "CIBW_ENVIRONMENT_PASS_LINUX": "PIP_NO_INDEX PIP_FIND_LINKS PIP_TRUSTED_HOST",
    }
