"""A real, tiny filesystem for tests of a full disk: writes past its size fail with ENOSPC from the
kernel, not from a mock.

A tmpfs of a few MB is mounted on a test's folder and unmounted after. Mounting needs root
(CAP_SYS_ADMIN), which the CI containers and the development machine have; elsewhere the test
is skipped with that reason, never silently.
"""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tiny_disk(folder: Path, size_bytes: int) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"a real full disk needs a tmpfs mount, refused here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
