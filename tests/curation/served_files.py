"""Files served over HTTP from the test's process: a stand-in for the object store that the Ray
workers of a run (other processes) can read, as they would read ``s3://``."""

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


@contextmanager
def served_files(files: list[Path], folder: Path) -> Iterator[list[str]]:
    """``files`` (linked into ``folder``, never copied) served on 127.0.0.1; yields their URLs."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        (folder / file.name).symlink_to(file)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.1:{server.server_address[1]}/{file.name}" for file in files]
    finally:
        server.shutdown()
