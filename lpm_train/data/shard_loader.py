"""The training data stream: shards -> shuffle (encoded) -> batch by shape -> decode -> collate.

Reproducible by construction: every random choice comes from RNGs seeded by (seed, node,
worker), and a DataLoader serves its workers' batches round-robin. Resuming therefore needs only
the number of batches already consumed: each worker skips its stream's share *before decode*,
which is cheap, and the stream continues exactly where the interrupted run was (the WebDataset advice:
checkpoint the step and the seeds, not iterator state).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, IterableDataset

from lpm_train.config import DataConfig
from lpm_train.data.byte_shuffle import byte_bounded_shuffle
from lpm_train.data.sample_decoder import SampleDecoder
from lpm_train.data.sample_selection import SampleSelection, readable_records
from lpm_train.data.shape_batcher import batches_by_shape
from lpm_train.data.shard_stream import current_reader_position, expand_shard_urls, raw_sample_stream
from lpm_train.data.video_batch import VideoBatch, collate_samples, empty_batch

log = logging.getLogger(__name__)


def worker_share(batches: int, worker: int, workers: int) -> int:
    """Batches worker ``worker`` produced among the first ``batches`` a DataLoader yielded."""
    return len(range(worker, batches, workers))


class ShardBatchStream(IterableDataset):
    def __init__(
        self,
        config: DataConfig,
        shards: list[str],
        resampled: bool,
        skip_batches: int = 0,
        shuffle: bool = True,
        split_by_rank: bool = True,
    ):
        super().__init__()
        self.config = config
        self.urls = expand_shard_urls(shards)
        self.resampled, self.skip_batches, self.shuffle = resampled, skip_batches, shuffle
        self.split_by_rank = split_by_rank
        self.decoder = SampleDecoder(config)

    def __iter__(self) -> Iterator[VideoBatch]:
        c, position = self.config, current_reader_position()
        # The DataLoader always starts its round-robin at worker 0. After skipping k batches
        # the next batch belongs to stream k mod W, so worker w plays stream (w + k) mod W.
        stream_id = (position.worker + self.skip_batches) % position.workers
        position = dataclasses.replace(position, worker=stream_id)
        if not self.split_by_rank:  # held-out data: every rank reads all of it, identically
            position = dataclasses.replace(position, rank=0, world=1)
        tag = f"{c.seed}/{position.rank}/{position.worker}"
        raw = raw_sample_stream(self.urls, self.resampled, c.seed, position)
        raw = SampleSelection.of(c).filter(raw, readable_records, lambda sample: sample.key, self.resampled)
        if self.shuffle:
            raw = byte_bounded_shuffle(raw, int(c.shuffle_buffer_mb * 2**20), random.Random(f"shuffle/{tag}"))
        decode_rng = random.Random(f"decode/{tag}")
        batches = batches_by_shape(raw, self.decoder.shape_of, c.batch_size, c.max_pending_samples)
        to_skip = worker_share(self.skip_batches, position.worker, position.workers)
        for index, (shape, members) in enumerate(batches):
            if index < to_skip:
                # Draw what decoding would have drawn, so the crops after resume match exactly.
                for _ in members:
                    decode_rng.random()
                continue
            yield self._decode_batch(shape, members, decode_rng)

    def _decode_batch(self, shape: tuple[int, int], members: list, rng: random.Random) -> VideoBatch:
        decoded, skipped = [], 0
        for raw in members:
            sample_rng = random.Random(rng.random())
            try:
                decoded.append(self.decoder.decode(raw, shape, sample_rng))
            except Exception as err:  # a bad sample is logged and skipped, never fatal
                skipped += 1
                log.warning("skip sample %s (%s): %s: %s", raw.key, raw.url, type(err).__name__, err)
        return collate_samples(decoded, skipped) if decoded else empty_batch(skipped)


def make_loader(
    config: DataConfig,
    shards: list[str],
    resampled: bool,
    skip_batches: int = 0,
    shuffle: bool = True,
    split_by_rank: bool = True,
    sampling: str = "segments",
) -> DataLoader:
    """Batches of ``shards``: samples one by one, or speak-listen pairs (``sampling="pairs"``,
    ``lpm_train.data.pair_stream``; the training stream follows ``data.sampling``)."""
    if sampling == "pairs":
        from lpm_train.data.pair_stream import PairBatchStream

        stream: IterableDataset = PairBatchStream(config, shards, resampled, skip_batches, shuffle, split_by_rank)
    else:
        stream = ShardBatchStream(config, shards, resampled, skip_batches, shuffle, split_by_rank)
    return DataLoader(
        stream,
        batch_size=None,
        num_workers=config.num_workers,
        persistent_workers=False,
        # A private generator: creating the iterator must not consume the trainer's RNG state.
        generator=torch.Generator().manual_seed(config.seed),
        prefetch_factor=2 if config.num_workers > 0 else None,
    )


class ThroughputMeter:
    """Samples per second over a sliding window of recent batches."""

    def __init__(self, window: int = 20):
        self.window = window
        self.events: list[tuple[float, int]] = []

    def add(self, samples: int) -> None:
        self.events.append((time.perf_counter(), samples))
        del self.events[: -self.window - 1]

    @property
    def samples_per_s(self) -> float:
        if len(self.events) < 2:
            return 0.0
        elapsed = self.events[-1][0] - self.events[0][0]
        return sum(n for _, n in self.events[1:]) / elapsed if elapsed > 0 else 0.0
