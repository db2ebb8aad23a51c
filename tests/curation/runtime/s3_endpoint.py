"""The local S3 endpoint (moto's server) lives with the benchmarks that use it too."""

from apps.bench.local_s3 import s3_endpoint, s3_filesystem

__all__ = ["s3_endpoint", "s3_filesystem"]
