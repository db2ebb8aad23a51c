"""Which samples a trainer reads, by the pipeline's verdicts in each sample's record.

The pipeline keeps speech whose lip sync it cannot confirm (``sync_verdict = uncertain``) and
flags a segment whose pictures another segment shows under other audio (``picture_twin_of``: one
of the two is dubbed). ``lpm-curate export --where`` makes a filtered copy of a dataset; at 10^5
hours a copy is a second dataset to store, so the trainer selects while it streams instead:

* ``data.sync_verdicts``: the verdicts a speaking sample may carry (empty: any). A speaking sample
  without a verdict (written before schema 1.4) counts as ``uncertain``: nothing confirmed its sync.
  Samples that are not speaking carry no verdict and always pass.
* ``data.skip_picture_twins``: leave out every sample flagged ``picture_twin_of``.

The choice is made on the record alone, before shuffling and batching, so it is the same on every
reader and a resumed run skips exactly the batches it consumed. Nothing is dropped unseen: each
reader logs the first sample it leaves out and a count every ``LOG_EVERY``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from lpm_train.config import DataConfig
from lpm_train.data.sample_decoder import SampleError, sample_record
from lpm_train.data.shard_stream import RawSample
from schemas.sample_record import SampleRecord

log = logging.getLogger(__name__)

LOG_EVERY = 1000  # samples left out between two log lines of one reader
# A resampled stream never ends: where no sample passes it would spin silently instead of failing,
# so it stops after this many left out in a row.
LEFT_OUT_IN_A_ROW_LIMIT = 100_000
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class SampleSelection:
    sync_verdicts: frozenset[str] | None  # None: any verdict
    skip_picture_twins: bool

    @classmethod
    def of(cls, config: DataConfig) -> SampleSelection:
        verdicts = frozenset(config.sync_verdicts) if config.sync_verdicts else None
        return cls(verdicts, config.skip_picture_twins)

    @property
    def selects_all(self) -> bool:
        return self.sync_verdicts is None and not self.skip_picture_twins

    def why_left_out(self, record: SampleRecord) -> str | None:
        """None when ``record`` is read; else the reason it is left out."""
        if self.skip_picture_twins and record.picture_twin_of:
            return "picture_twin_of"
        if self.sync_verdicts is not None and record.state == "speaking":
            verdict = record.sync_verdict or "uncertain"
            if verdict not in self.sync_verdicts:
                return f"sync_verdict={verdict}"
        return None

    def filter(self, items: Iterable[_Item], records_of: Callable[[_Item], list[SampleRecord]],
               name_of: Callable[[_Item], str], endless: bool) -> Iterator[_Item]:
        """``items`` whose every record is read (a pair goes only with both of its samples). An
        ``endless`` (resampled) stream raises ``RuntimeError`` once ``LEFT_OUT_IN_A_ROW_LIMIT`` items
        in a row are left out; a finite one simply ends."""
        limit = LEFT_OUT_IN_A_ROW_LIMIT if endless else None
        if self.selects_all:
            yield from items
            return
        left_out = in_a_row = 0
        for item in items:
            reasons = [r for r in map(self.why_left_out, records_of(item)) if r]
            if not reasons:
                in_a_row = 0
                yield item
                continue
            left_out += 1
            in_a_row += 1
            if left_out == 1 or left_out % LOG_EVERY == 0:
                log.info("data selection: left out %s (%s); %d so far on this reader", name_of(item),
                         reasons[0], left_out)
            if limit is not None and in_a_row >= limit:
                raise RuntimeError(f"data selection ({self.describe()}) left out {in_a_row} samples in a row:"
                                   " do any of these shards pass it?")

    def describe(self) -> str:
        parts = [f"sync_verdicts={sorted(self.sync_verdicts)}"] if self.sync_verdicts is not None else []
        return ", ".join(parts + (["skip_picture_twins"] if self.skip_picture_twins else []))


def readable_records(*samples: RawSample) -> list[SampleRecord]:
    """The records to select on; an unreadable one is not among them (decoding logs and skips it)."""
    records = []
    for raw in samples:
        try:
            records.append(sample_record(raw))
        except SampleError:
            continue
    return records
