"""The local S3 endpoint (moto's server) lives with the benchmarks that use it too; ``clips_on_s3``
is what the cluster tests start from: the endpoint with input and output buckets and clips in it."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apps.bench.local_s3 import s3_endpoint, s3_filesystem

__all__ = ["clips_on_s3", "s3_endpoint", "s3_filesystem"]


@contextmanager
def clips_on_s3(clips: list[Path], extra: dict[str, bytes] | None = None) -> Iterator[dict[str, str]]:
    """The endpoint's environment, with buckets ``lpm-in`` and ``lpm-out`` and ``clips`` (uploaded
    from their paths) and ``extra`` (name -> bytes) in ``s3://lpm-in/clips``."""
    with s3_endpoint() as env:
        fs = s3_filesystem(env)
        fs.mkdir("lpm-in")
        fs.mkdir("lpm-out")
        for clip in clips:
            fs.put(str(clip), f"lpm-in/clips/{clip.name}")
        for name, data in (extra or {}).items():
            fs.pipe(f"lpm-in/clips/{name}", data)
        yield env
