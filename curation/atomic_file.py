"""A local file written whole or not at all: a temporary name in the same folder, fsync, rename.

A process killed at any moment leaves either the old file or the new one under the trusted name,
never a part; the temporary is removed when the write fails.
"""

import os
import tempfile
from pathlib import Path


def write_atomically(target: str | Path, data: bytes, prefix: str, suffix: str = "") -> None:
    """``data`` to ``target`` (its folder must exist); the temporary is ``<prefix>...<suffix>``."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.fspath(target)) or ".", prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
