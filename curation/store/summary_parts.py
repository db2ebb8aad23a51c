"""Run-scope summaries gathered into parts, so a run-wide stage reads O(parts), not O(videos) objects.

The decide task of a run-wide stage needs every video's summary. Read one object (or two, with
arrays) per video, that is 10^5 round trips at every barrier on an object store. So the worker that
summarizes a video also keeps the summary in this process's buffer, and writes the buffer as one
part (``work/block<k>/summaries/<part>.json|.npz``) every ``PART_VIDEOS`` videos and when the
block ends (``flush``); the decide task lists the parts and reads them concurrently.

Nothing is lost when a buffer is: the per-video summary is still written first (the write-ahead
copy, ``Ledger.save_summary``), and a video that no part holds is read from it. A summary enters a
part only once it is final:

- *committed*: the video's outcome is written (``commit``, from ``finish_work``), and it did not
  fail. A summary whose attempt died before its outcome stays out of every part;
- *confirmed*: the driver has the outcome. An actor holds one video at a time and is given the next
  only once the driver has the last one's reply, so when the next video commits, the one before is
  confirmed; at the block's end the driver asks each live actor to ``flush`` after every reply has
  arrived. A video whose worker died after its outcome was written (its reply lost) is started
  over, and its first summary never reaches a part.

A video found in more than one part (a run killed and resumed around it) or among the failed ones
is read from its per-video copy, which the latest attempt wrote. A run from before parts has none:
every summary is read per video, as then.
"""

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

PART_VIDEOS = 64  # videos a part holds: at 10^5 videos ~1,600 parts, read 32 at a time
PARTS_DIR = "summaries"  # below the block's folder, so a block's removal takes its parts


def new_part_name() -> str:
    """A name no other writer picks (parts are written by many actors at once, never overwritten)."""
    return uuid.uuid4().hex


@dataclass
class SummaryBuffer:
    """One process's summaries on their way into parts, keyed by (run store, block)."""

    part_videos: int = PART_VIDEOS
    _pending: dict[tuple[str, int, str], Any] = field(default_factory=dict)  # summarized, no outcome yet
    _committed: tuple[str, int, str, Any] | None = None  # outcome written, reply not yet confirmed
    _confirmed: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stage(self, run_uri: str, block: int, video_id: str, summary: Any) -> None:
        """The video's summary, stored per video already; it waits for the video's outcome."""
        with self._lock:
            self._pending[(run_uri, block, video_id)] = summary

    def commit(self, run_uri: str, block: int, video_id: str, failed: bool) -> dict[tuple[str, int], dict[str, Any]]:
        """The video's outcome is written: the video before it on this worker is confirmed. Returns
        the parts now full, to be written (and forgotten here)."""
        with self._lock:
            summary = self._pending.pop((run_uri, block, video_id), _NONE)
            self._confirm_last()
            if summary is not _NONE and not failed:
                self._committed = (run_uri, block, video_id, summary)
            full = {key: videos for key, videos in self._confirmed.items() if len(videos) >= self.part_videos}
            for key in full:
                del self._confirmed[key]
            return full

    def take_all(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Every confirmed summary (the driver has every reply: the block is over), by (run, block)."""
        with self._lock:
            self._confirm_last()
            taken, self._confirmed = self._confirmed, {}
            self._pending.clear()
            return taken

    def clear(self) -> None:
        """Forget everything held (what an interrupted block left: its videos are read one by one)."""
        with self._lock:
            self._pending.clear()
            self._committed = None
            self._confirmed.clear()

    def _confirm_last(self) -> None:
        if self._committed is not None:
            run_uri, block, video_id, summary = self._committed
            self._confirmed.setdefault((run_uri, block), {})[video_id] = summary
            self._committed = None


_NONE = object()
BUFFER = SummaryBuffer()  # this process's: the actors' (and, with the local executor, the driver's)
