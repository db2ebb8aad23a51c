"""Shard URLs to raw WebDataset samples: expansion, node/worker split, tar reading.

Shards may be local paths, globs, brace patterns (``train-{000000..000099}.tar``), ``pipe:``
commands, or any fsspec URL (``s3://``, ``gs://``, ``https://``). A shard that cannot be opened
or is truncated is logged and the stream moves on: one bad file never ends an epoch.
"""

from __future__ import annotations

import glob
import logging
import os
import random
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import braceexpand
import fsspec
import torch.distributed as dist
from torch.utils.data import get_worker_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderPosition:
    """Which slice of the shard stream this process/worker reads."""

    rank: int = 0
    world: int = 1
    worker: int = 0
    workers: int = 1


@dataclass
class RawSample:
    """The undecoded members of one sample, keyed by extension (``mp4``, ``ref_00.jpg``, ...)."""

    key: str
    url: str
    members: dict[str, bytes] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.members.values())


def current_reader_position() -> ReaderPosition:
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return ReaderPosition(rank, world, worker, workers)


def expand_shard_urls(patterns: list[str]) -> list[str]:
    urls: list[str] = []
    for pattern in patterns:
        for expanded in braceexpand.braceexpand(pattern):
            if expanded.startswith("pipe:"):
                urls.append(expanded)
            elif "://" in expanded and not expanded.startswith("file://"):
                protocol = expanded.split("://", 1)[0]
                if any(c in expanded for c in "*?["):
                    found = sorted(fsspec.filesystem(protocol).glob(expanded))
                    urls.extend(f"{protocol}://{p}" for p in found)
                else:
                    urls.append(expanded)
            else:
                local = expanded.removeprefix("file://")
                matches = sorted(glob.glob(local)) if any(c in local for c in "*?[") else [local]
                urls.extend(matches)
    if not urls:
        raise FileNotFoundError(f"no shards match {patterns!r}")
    return urls


def shard_sequence(urls: list[str], resampled: bool, seed: int, position: ReaderPosition) -> Iterator[str]:
    """Resampled: an endless seeded draw per (node, worker), so every reader sees a different but
    reproducible order. Not resampled: each shard exactly once, split across nodes then workers."""
    if resampled:
        rng = random.Random(f"shards/{seed}/{position.rank}/{position.worker}")
        while True:
            yield urls[rng.randrange(len(urls))]
    else:
        mine = urls[position.rank :: position.world]
        yield from mine[position.worker :: position.workers]


def open_shard(url: str) -> BinaryIO:
    if url.startswith("pipe:"):
        proc = subprocess.Popen(url[5:], shell=True, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        return proc.stdout
    if "://" in url and not url.startswith("file://"):
        return fsspec.open(url, "rb").open()
    return open(url.removeprefix("file://"), "rb")


def _split_member_name(name: str) -> tuple[str, str] | None:
    directory, _, base = name.rpartition("/")
    if base.startswith(".") or "." not in base:
        return None
    stem, _, ext = base.partition(".")
    return (f"{directory}/{stem}" if directory else stem), ext


def read_shard_samples(url: str) -> Iterator[RawSample]:
    """Group consecutive tar members by key, as the WebDataset writer lays them out."""
    current: RawSample | None = None
    try:
        with open_shard(url) as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
            for info in tar:
                if not info.isfile():
                    continue
                split = _split_member_name(info.name)
                if split is None:
                    continue
                key, ext = split
                extracted = tar.extractfile(info)
                if extracted is None:
                    continue
                data = extracted.read()
                if current is not None and current.key != key:
                    yield current
                    current = None
                if current is None:
                    current = RawSample(key=key, url=url)
                current.members[ext] = data
    except (OSError, tarfile.TarError, EOFError) as err:
        # The sample being assembled when the shard broke may be missing members: drop it.
        log.warning("shard %s: read error after %s: %s", url, current.key if current else "start", err)
        return
    if current is not None:
        yield current


def raw_sample_stream(urls: list[str], resampled: bool, seed: int, position: ReaderPosition) -> Iterator[RawSample]:
    empty_in_a_row = 0
    for url in shard_sequence(urls, resampled, seed, position):
        got_any = False
        for sample in read_shard_samples(url):
            got_any = True
            yield sample
        empty_in_a_row = 0 if got_any else empty_in_a_row + 1
        # A resampled stream over shards that all fail would otherwise spin forever.
        if empty_in_a_row > 4 * len(urls) + 8:
            raise RuntimeError(f"{empty_in_a_row} shards in a row gave no samples; check {urls[:3]}")
