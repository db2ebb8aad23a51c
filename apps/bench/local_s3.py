"""An S3-protocol endpoint on 127.0.0.1 for tests and benchmarks: moto's server (or s3rver) in a process group we own.

``s3_endpoint()`` yields the environment (endpoint URL and dummy credentials, the variables
boto/s3fs read) that any process, Ray workers included, needs to reach it; the server is stopped
by its own process group when the block ends, never by name.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import s3fs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A server that stores objects as files (npm's ``s3rver``): moto keeps every object in memory, and
# 10^5 videos' records (15-20 GB) do not fit this machine's; moto's spill to temporary files keeps
# each one open, past the 20,000 descriptors a process may hold here. bootstrap.sh installs it in
# the virtual environment, pinned by apps/bench/s3rver/package-lock.json; ``LPM_S3RVER`` names
# another copy's script.
S3RVER_ENV = "LPM_S3RVER"


INDEXED_LISTING = Path(__file__).with_name("s3rver") / "indexed_listing.js"


def s3rver_script() -> Path:
    named = os.environ.get(S3RVER_ENV)
    script = Path(named) if named else Path(sys.prefix) / "s3rver" / "node_modules" / ".bin" / "s3rver"
    if not script.exists():
        raise RuntimeError(f"no s3rver at {script}: run `bash bootstrap.sh setup` (it installs the pinned one), "
                           f"or set {S3RVER_ENV} to its script")
    return script


@contextmanager
def s3_endpoint(files_dir: Path | None = None) -> Iterator[dict[str, str]]:
    """moto's server in memory; with ``files_dir``, ``s3rver`` storing its objects there."""
    port = _free_port()
    if files_dir is None:
        command = [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]
        key = "test"
    else:
        # through a wrapper that gives s3rver a listing whose pages cost what S3's do (see the file)
        command = ["node", str(INDEXED_LISTING), str(s3rver_script()), "-d", str(files_dir), "-a", "127.0.0.1", "-p",
                   str(port), "--silent"]
        key = "S3RVER"  # the credentials s3rver checks signatures with
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # s3rver 3.7.1 makes its listing continuation tokens with a cipher OpenSSL 3 keeps in its
        # legacy provider ("ERR_OSSL_EVP_UNSUPPORTED" on a listing that spans pages otherwise)
        env={**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"} if files_dir else None,
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, f"{command[0]} did not start"
                time.sleep(0.2)
        yield env
    finally:
        with suppress(ProcessLookupError):  # its group is gone already: a server that never started
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def s3_filesystem(env: dict[str, str]) -> "s3fs.S3FileSystem":
    import s3fs

    return s3fs.S3FileSystem(
        key=env["AWS_ACCESS_KEY_ID"],
        secret=env["AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": env["AWS_ENDPOINT_URL"]},
    )


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in this process's environment for the block, the previous ones put back after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
