"""Third-party output of a process (native and Python) captured into rotated files under ``OUT/logs/``.

MediaPipe, TensorFlow Lite, Ray's core worker and ffmpeg write to file descriptors 1 and 2
directly (glog, ``fprintf``), below anything Python's ``logging`` can filter. So the descriptors
themselves are pointed at a pipe, and a thread copies each line into a rotating log file, and
also to the original descriptor when ``echo`` is on (``--verbose``). The driver captures its own
output this way (``captured_output``); every Ray worker does the same through Ray's
``worker_process_setup_hook`` (``capture_worker_output``), one file per worker process, named
by its node and its pid (two nodes writing to one shared folder cannot collide). A run whose
``--out`` is an object store uploads these files into it at its end (``curation.execution.log_upload``).
"""

import contextlib
import logging
import logging.handlers
import os
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

LOG_DIR_ENV = "LPM_LOG_DIR"
DRIVER_LOG = "driver.log"
LOG_ECHO_ENV = "LPM_LOG_ECHO"
MAX_LOG_BYTES = 20_000_000
LOG_BACKUPS = 3


class _RotatingLog(logging.handlers.RotatingFileHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """Drop the line: logging would report the error on stderr, which is this very log (a full
        disk would loop); the run itself meets a full disk where it writes its results, and stops."""


def rotating_writer(path: Path, max_bytes: int = MAX_LOG_BYTES) -> logging.Handler:
    """A size-rotated file (``name.log``, ``name.log.1`` ... ``.3``): a days-long run cannot fill the disk with logs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _RotatingLog(
        path, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8", errors="backslashreplace"
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


@dataclass
class _Redirect:
    fd: int
    saved: int


class OutputCapture:
    """Descriptors 1 and 2 of this process copied line by line into a rotating log file."""

    def __init__(self, log_path: Path, echo: bool, max_bytes: int = MAX_LOG_BYTES) -> None:
        self.log_path = log_path
        self.echo = echo
        self._handler = rotating_writer(log_path, max_bytes)
        self._redirects: list[_Redirect] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(ValueError, OSError):
                stream.flush()
        for fd in (1, 2):
            saved = os.dup(fd)
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            self._redirects.append(_Redirect(fd, saved))
            thread = threading.Thread(target=self._pump, args=(read_end, saved), name=f"lpm-log-fd{fd}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump(self, read_end: int, original: int) -> None:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                if self.echo:
                    with contextlib.suppress(OSError):
                        os.write(original, chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._write(line)
            if pending:
                self._write(pending)

    def _write(self, line: bytes) -> None:
        record = logging.LogRecord("output", logging.INFO, "", 0, line.decode("utf-8", "replace"), None, None)
        self._handler.handle(record)

    def stop(self) -> None:
        """Put the descriptors back and drain the pipes: the last lines reach the file."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(ValueError, OSError):
                stream.flush()
        for redirect in self._redirects:
            os.dup2(redirect.saved, redirect.fd)  # closes the pipe's last write end: the pump sees EOF
        for thread in self._threads:
            thread.join(timeout=2)  # a child still holding the pipe must not hang the exit
        for redirect in self._redirects:
            os.close(redirect.saved)
        self._redirects.clear()
        self._handler.close()

    def console_stream(self) -> TextIO:
        """A text stream on the original stdout, for what the user must see while output is captured."""
        return os.fdopen(os.dup(self._redirects[0].saved), "w", buffering=1, encoding="utf-8", errors="replace")


@contextlib.contextmanager
def captured_output(log_dir: Path, name: str, echo: bool, max_bytes: int = MAX_LOG_BYTES) -> Iterator[OutputCapture]:
    capture = OutputCapture(log_dir / f"{name}.log", echo, max_bytes)
    capture.start()
    try:
        yield capture
    finally:
        capture.stop()


def worker_log_env(log_dir: Path, echo: bool) -> dict[str, str]:
    """Environment variables that tell ``capture_worker_output`` where to write."""
    return {LOG_DIR_ENV: str(log_dir), LOG_ECHO_ENV: "1" if echo else "0"}


def worker_log_prefix(node_id: str) -> str:
    """The start of the names of the log files of the workers of one Ray node."""
    return f"worker-{node_id[:12]}-"


def _node_id() -> str:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # not in a Ray worker after all: the machine's name tells the nodes apart
        return socket.gethostname()


def capture_worker_output() -> None:
    """Ray's ``worker_process_setup_hook``: this worker's output into
    ``LPM_LOG_DIR/worker-<node>-<pid>.log`` (``node``: the first 12 characters of Ray's node id).

    Runs in every worker process of the job before any task. On a node without the folder (a
    cluster whose workers cannot create it) the worker keeps Ray's own log files.
    """
    log_dir = os.environ.get(LOG_DIR_ENV)
    if not log_dir:
        return
    try:
        name = f"{worker_log_prefix(_node_id())}{os.getpid()}.log"
        capture = OutputCapture(Path(log_dir) / name, os.environ.get(LOG_ECHO_ENV) == "1")
    except OSError:
        return
    capture.start()  # for the worker's lifetime: the process exits with its descriptors
