"""Speak-listen pairs as training batches: both roles of one exchange in one batch.

``data.sampling: pairs`` reads the run's pairs manifest (Parquet, ``schemas.tables.PairRow``:
within a video and across the recordings of one conversation) instead of streaming segments one
by one. Each pair gives two samples, read by byte offset through the shards' indexes (the
``.json`` written beside each ``.tar``), so a pair's two samples may sit in any two shards:

* the speaker's sample, whose speaking frames are driven by its own channel (``own.wav``);
* the listener's sample, whose listening frames are driven by the partner channel
  (``partner.wav``): what the listener hears, which is the speaker's voice.

The decoder (``sample_decoder``) already conditions each frame by its state; pairs mode decides
which clips sit together and where they are cut: when the two segments share time (on one clock:
the listener's times minus the pair's ``offset_s``), both clips start at the same moment of the
exchange, so the batch holds the speaker saying something and the listener hearing it. Pairs
without shared time (``following``/``preceding``) are cut independently.

Batches hold ``batch_size // 2`` pairs (at least one), speaker then listener, of one shape (the
frame bucket and reference count both samples fit). ``VideoBatch.extra["pair_role"]`` is 0 for a
speaker and 1 for a listener. Reproducible like the segment stream: the pair order is a seeded
shuffle per epoch, split across nodes then workers, and a resumed run skips batches before decode.
Only pairs whose two samples are in the given shards are used (a pair split between training and
held-out shards is in neither).
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass

import fsspec
import torch
from torch.utils.data import IterableDataset

from lpm_train.config import DataConfig
from lpm_train.data.sample_decoder import SampleDecoder, sample_record
from lpm_train.data.sample_selection import SampleSelection, readable_records
from lpm_train.data.shape_batcher import batches_by_shape
from lpm_train.data.shard_stream import RawSample, current_reader_position, expand_shard_urls
from lpm_train.data.video_batch import VideoBatch, collate_samples, empty_batch
from schemas.sample_layout import DEFAULT_CLIP_FPS, RECORD_MEMBER, safe_key
from schemas.sample_record import SampleRecord
from schemas.shard_index import ShardIndex, index_path_of
from schemas.tables import PairRow

log = logging.getLogger(__name__)

SPEAKER, LISTENER = 0, 1
_PAIR_COLUMNS = ("speaking_segment_id", "listening_segment_id", "offset_s")


@dataclass(frozen=True)
class Pair:
    speaker_key: str
    listener_key: str
    offset_s: float  # listener's video time minus the speaker's for one moment


@dataclass(frozen=True)
class IndexedSample:
    url: str
    members: dict[str, tuple[int, int]]  # member -> (byte offset, size) in the tar


def pairs_manifest_files(config: DataConfig) -> list[str]:
    """``data.pairs``, or the ``manifest/pairs`` of the run whose ``shards/`` hold the shards."""
    sources = list(config.pairs)
    if not sources:
        runs = sorted({url.rsplit("/shards/", 1)[0] for url in expand_shard_urls(config.shards) if "/shards/" in url})
        if not runs:
            raise ValueError("data.sampling=pairs needs data.pairs (the run's manifest/pairs) for these shards")
        sources = [f"{run}/manifest/pairs/*.parquet" for run in runs]
    files = []
    for source in sources:
        files += expand_shard_urls([source if source.endswith(".parquet") else f"{source.rstrip('/')}/*.parquet"])
    return files


def load_pairs(files: list[str]) -> list[Pair]:
    """Every pair of the manifest parts, sorted; manifests before schema 1.5 have no offset (0)."""
    import pyarrow.parquet as pq

    pairs = set()
    for file in files:
        with fsspec.open(file, "rb") as f:
            table = pq.read_table(f)
        rows = table.select([c for c in _PAIR_COLUMNS if c in table.column_names]).to_pylist()
        for row in (PairRow(**columns) for columns in rows):
            pairs.add(Pair(safe_key(row.speaking_segment_id), safe_key(row.listening_segment_id),
                           float(row.offset_s) if row.offset_s is not None else 0.0))
    return sorted(pairs, key=lambda p: (p.speaker_key, p.listener_key))


def load_sample_index(urls: list[str]) -> dict[str, IndexedSample]:
    """Sample key -> where its members are, from each shard's index (``shard.json`` beside ``shard.tar``)."""
    index = {}
    for url in urls:
        with fsspec.open(index_path_of(url), "rb") as f:
            shard = ShardIndex.from_json(f.read(), index_path_of(url))
        for entry in shard.samples:
            index[entry.key] = IndexedSample(url, {ext: (m.offset, m.size) for ext, m in entry.members.items()})
    return index


def read_indexed(key: str, where: IndexedSample, only: tuple[str, ...] | None = None) -> RawSample:
    """The sample's members (``only``: just these) read by offset from its shard."""
    raw = RawSample(key=key, url=where.url)
    members = {ext: at for ext, at in where.members.items() if only is None or ext in only}
    with fsspec.open(where.url, "rb") as f:
        for ext, (offset, size) in sorted(members.items(), key=lambda m: m[1][0]):
            f.seek(offset)
            raw.members[ext] = f.read(size)
    return raw


class PairBatchStream(IterableDataset):
    def __init__(self, config: DataConfig, shards: list[str], resampled: bool, skip_batches: int = 0,
                 shuffle: bool = True, split_by_rank: bool = True):
        super().__init__()
        self.config = config
        self.index = load_sample_index(expand_shard_urls(shards))
        every = load_pairs(pairs_manifest_files(config))
        self.pairs = [p for p in every if p.speaker_key in self.index and p.listener_key in self.index]
        if not self.pairs:
            raise ValueError(f"none of the {len(every)} pairs has both samples in these {len(shards)} shard patterns")
        log.info("pairs mode: %d of %d pairs have both samples in the shards", len(self.pairs), len(every))
        self.resampled, self.skip_batches, self.shuffle = resampled, skip_batches, shuffle
        self.split_by_rank = split_by_rank
        self.decoder = SampleDecoder(config)

    def _pair_sequence(self, seed: str, rank: int, world: int, worker: int, workers: int) -> Iterator[Pair]:
        epoch = 0
        while True:
            order = list(self.pairs)
            if self.shuffle:
                random.Random(f"pairs/{seed}/{epoch}").shuffle(order)
            mine = order[rank::world][worker::workers]
            if not mine:  # more readers than pairs: this one has none (an endless draw would spin)
                if self.resampled:
                    raise ValueError(f"{len(order)} pairs cannot feed {world * workers} readers")
                return
            yield from mine
            epoch += 1
            if not self.resampled:
                return

    def __iter__(self) -> Iterator[VideoBatch]:
        c, position = self.config, current_reader_position()
        stream_id = (position.worker + self.skip_batches) % position.workers
        position = dataclasses.replace(position, worker=stream_id)
        if not self.split_by_rank:
            position = dataclasses.replace(position, rank=0, world=1)
        tag = f"{c.seed}/{position.rank}/{position.worker}"
        pairs = self._pair_sequence(str(c.seed), position.rank, position.world, position.worker, position.workers)
        # Selected on the two records alone (the json members, by offset), before any media is read.
        pairs = SampleSelection.of(c).filter(pairs, self._records_of,
                                             lambda p: f"pair {p.speaker_key}~{p.listener_key}", self.resampled)
        read = ((pair, read_indexed(pair.speaker_key, self.index[pair.speaker_key]),
                 read_indexed(pair.listener_key, self.index[pair.listener_key])) for pair in pairs)
        decode_rng = random.Random(f"decode-pairs/{tag}")
        per_batch = max(1, c.batch_size // 2)
        batches = batches_by_shape(read, self._shape_of, per_batch, c.max_pending_samples)
        to_skip = len(range(position.worker, self.skip_batches, position.workers))
        for index, (shape, members) in enumerate(batches):
            if index < to_skip:
                for _ in members:
                    decode_rng.random()
                continue
            yield self._decode_batch(shape, members, decode_rng)

    def _records_of(self, pair: Pair) -> list[SampleRecord]:
        """The speaker's and the listener's records, read alone."""
        return readable_records(*(read_indexed(key, self.index[key], only=(RECORD_MEMBER,))
                                  for key in (pair.speaker_key, pair.listener_key)))

    def _shape_of(self, item: tuple[Pair, RawSample, RawSample]) -> tuple[int, int] | None:
        """The shape both samples of the pair fit: the shorter one's bucket, the fewer references."""
        shapes = [self.decoder.shape_of(raw) for raw in item[1:]]
        if None in shapes:
            return None
        return min(s[0] for s in shapes), min(s[1] for s in shapes)

    def _decode_batch(self, shape: tuple[int, int], items: list, rng: random.Random) -> VideoBatch:
        decoded, roles, skipped = [], [], 0
        for pair, speaker, listener in items:
            pair_rng = random.Random(rng.random())
            try:
                starts = aligned_starts(pair, sample_record(speaker), sample_record(listener), shape[0], pair_rng)
                both = [self.decoder.decode(raw, shape, pair_rng, start=start)
                        for raw, start in ((speaker, starts[0]), (listener, starts[1]))]
            except Exception as err:  # a bad pair is logged and skipped, never fatal
                skipped += 2
                log.warning("skip pair %s~%s: %s: %s", pair.speaker_key, pair.listener_key, type(err).__name__, err)
                continue
            decoded += both
            roles += [SPEAKER, LISTENER]
        if not decoded:
            return empty_batch(skipped)
        batch = collate_samples(decoded, skipped)
        batch.extra["pair_role"] = torch.tensor(roles, dtype=torch.long)
        return batch


def aligned_starts(
    pair: Pair, speaker: SampleRecord, listener: SampleRecord, frames: int, rng: random.Random
) -> tuple[int | None, int | None]:
    """First frames of the two clips so that they show the same moment, where the two segments
    share ``frames`` frames of time; ``(None, None)`` (each cut at random) where they do not."""
    if None in (speaker.n_frames, listener.n_frames, speaker.t_start, listener.t_start):
        return None, None  # a record without its span cannot be aligned
    try:
        fps = float(speaker.fps or DEFAULT_CLIP_FPS)
        n_speaker, n_listener = int(speaker.n_frames or 0), int(listener.n_frames or 0)
        # The listener's frame that shows the moment of the speaker's frame 0
        lead = round((float(speaker.t_start or 0.0) + pair.offset_s - float(listener.t_start or 0.0)) * fps)
    except (TypeError, ValueError):  # a field of the wrong type in a hand-made record
        return None, None
    first = max(0, -lead)
    last = min(n_speaker, n_listener - lead) - frames
    if last < first:
        return None, None
    start = rng.randint(first, last)
    return start, start + lead
