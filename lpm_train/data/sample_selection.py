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
from pathlib import Path
from typing import TypeVar

from lpm_train.config import ConfigError, DataConfig, load_config
from lpm_train.data.sample_decoder import sample_record
from lpm_train.data.shard_stream import RawSample
from schemas.sample_record import SampleRecord

log = logging.getLogger(__name__)

LOG_EVERY = 1000  # samples left out between two log lines of one reader
# A resampled stream never ends: where no sample passes it would spin silently instead of failing,
# so it stops after this many left out in a row.
LEFT_OUT_IN_A_ROW_LIMIT = 100_000
SPEAKING_STARVED = 100  # items with speech left out, none read: warned once
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
            # No verdict (or not one a run writes): nothing confirmed the sync.
            verdict = record.sync_verdict if isinstance(record.sync_verdict, str) else None
            verdict = verdict or "uncertain"
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
        left_out = in_a_row = speaking_read = speaking_left_out = 0
        for item in items:
            records = records_of(item)
            reasons = [r for r in map(self.why_left_out, records) if r]
            speaking = any(r.state == "speaking" for r in records)
            if not reasons:
                in_a_row = 0
                speaking_read += speaking
                yield item
                continue
            left_out += 1
            in_a_row += 1
            speaking_left_out += speaking
            if left_out == 1 or left_out % LOG_EVERY == 0:
                log.info("data selection: left out %s (%s); %d so far on this reader", name_of(item),
                         reasons[0], left_out)
            # Other samples always pass, so a selection that takes every speaking sample away would
            # otherwise train on listening and idle alone without a word above INFO.
            if speaking_left_out == SPEAKING_STARVED and not speaking_read:
                log.warning("data selection (%s): %d items with speech left out and none read on this reader;"
                            " shards written before the lip-sync verdict (schema 1.4) have none to select on",
                            self.describe(), speaking_left_out)
            if limit is not None and in_a_row >= limit:
                raise RuntimeError(f"data selection ({self.describe()}) left out {in_a_row} items in a row:"
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
        except Exception:  # any unreadable record: decoding logs the sample and skips it
            continue
    return records


def warn_if_selection_changed(saved_config: Path, data: DataConfig) -> None:
    """A resumed run whose selection differs from the one its folder's ``config.yaml`` recorded:
    the batches it skips on resume are counted in a stream that is no longer the one it read."""
    if not saved_config.is_file():
        return
    try:
        before = SampleSelection.of(load_config(saved_config).data)
    except (ConfigError, OSError, ValueError) as err:
        log.warning("cannot compare the data selection with %s: %s", saved_config, err)
        return
    now = SampleSelection.of(data)
    if before != now:
        log.warning("data selection changed on resume (%s -> %s): the stream continues from a position counted in"
                    " the old one", before.describe() or "every sample", now.describe() or "every sample")
