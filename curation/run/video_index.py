"""What the driver knows of every input and video during a run, in SQLite on the driver's disk.

The driver plans, accounts and writes the videos table from each input's identity and each video's
outcome. Held as Python objects they grew its memory by ~8.5 KB a video (``bench scale``: +85 MB
from 1,000 to 10,000 videos; ~1.9 KB an outcome, 0.4 KB an identity, ~5 KB for the videos table's
rows built at once, tracemalloc): most of a GB at 10^5 videos. Here they are rows of a database in
a temporary folder, read back a page at a time, and the driver keeps counts. The file is scratch,
never the record: the ledger in the run store is (a resumed run fills a new index from it), so it
is deleted when the run ends, and nothing in it is made durable (no journal, no sync). A driver that
was killed (preempted, out of memory) cannot delete its own: its folder is named after its machine
and process, and the next index made on that machine removes the folders of its processes that are
gone (a folder of another machine or container sharing the disk is left alone).

URIs are stored as bytes (``surrogatepass``): a file name that is not UTF-8 keeps its odd bytes.
"""

import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType

from curation.ingest.content_id import InputIdentity
from curation.run.paging import pages
from curation.runtime.video_outcome import VideoOutcome

PAGE = 1000  # rows read back at once
PREFIX = "lpm-driver-"  # then the driver's host name, its process id and mkdtemp's random part, "-" between
# SQLite's default bound on the parameters of one statement (999 before 3.32)
_MAX_PARAMETERS = 900

_SCHEMA = """
CREATE TABLE inputs (
    position INTEGER PRIMARY KEY,  -- in the run's list: the videos table's order
    uri BLOB NOT NULL UNIQUE,
    rank INTEGER,  -- in sorted order: which of a file's names is its video's primary
    video_id TEXT,
    size_bytes INTEGER,
    identity TEXT  -- InputIdentity as JSON; NULL until identified
);
CREATE TABLE videos (  -- one per distinct content
    video_id TEXT PRIMARY KEY,
    uri BLOB NOT NULL,  -- the first of its names in sorted order
    size_bytes INTEGER,
    duration_s REAL  -- as the last block finished it: the next block's watchdog
);
CREATE TABLE outcomes (  -- the current block's
    video_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    n_samples INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    outcome TEXT NOT NULL  -- VideoOutcome as JSON
);
"""


def _key(uri: str) -> bytes:
    return uri.encode("utf-8", "surrogatepass")


def _uri(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


def remove_orphaned_indexes(folder: str) -> list[str]:
    """Remove the index folders in ``folder`` made on this machine whose driver process no longer runs;
    returns their names. A folder of another host name, of a process that is alive, or whose name
    does not say, is left alone."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    host = _host()
    for name in names:
        parts = name.removeprefix(PREFIX).rsplit("-", 2)
        if not name.startswith(PREFIX) or len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if _alive(int(parts[1])):
            continue
        shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
        removed.append(name)
    return removed


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class VideoIndex:
    """Inputs (in order, with their identities), videos (their primary URI, size, duration) and
    the current block's outcomes."""

    def __init__(self, folder: str | None = None) -> None:
        remove_orphaned_indexes(folder or tempfile.gettempdir())
        self.folder = tempfile.mkdtemp(prefix=f"{PREFIX}{_host()}-{os.getpid()}-", dir=folder)
        self._db = sqlite3.connect(os.path.join(self.folder, "index.sqlite"), isolation_level=None)
        self._db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "VideoIndex":
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _many(self, sql: str, rows: Iterable[tuple]) -> None:
        self._db.execute("BEGIN")
        try:
            self._db.executemany(sql, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _count(self, sql: str) -> int:
        return int(self._db.execute(sql).fetchone()[0])

    # inputs

    def add_inputs(self, uris: Sequence[str]) -> None:
        """The run's inputs in the videos table's order (an input listed twice is kept once: the
        accounting then finds the videos table one row short of the inputs)."""
        self._many("INSERT OR IGNORE INTO inputs (position, uri) VALUES (?, ?)",
                   ((i, _key(uri)) for i, uri in enumerate(uris)))
        # sorted() holds references to the caller's strings, not copies
        self._many("UPDATE inputs SET rank = ? WHERE uri = ?", ((i, _key(uri)) for i, uri in enumerate(sorted(uris))))

    @property
    def n_inputs(self) -> int:
        return self._count("SELECT COUNT(*) FROM inputs")

    def unidentified(self) -> Iterator[str]:
        """Inputs without an identity yet, in order, a page at a time (identities may be set
        between pages)."""
        after = -1
        while page := self._db.execute(
            "SELECT position, uri FROM inputs WHERE position > ? AND identity IS NULL ORDER BY position LIMIT ?",
            (after, PAGE),
        ).fetchall():
            after = page[-1][0]
            yield from (_uri(key) for _position, key in page)

    def set_identities(self, identities: Iterable[InputIdentity]) -> None:
        self._many(
            "UPDATE inputs SET video_id = ?, size_bytes = ?, identity = ? WHERE uri = ?",
            ((i.video_id, i.size_bytes, i.to_json().decode(), _key(i.uri)) for i in identities),
        )

    def choose_primaries(self) -> int:
        """Each distinct content's primary URI, the first of its names in sorted order; returns
        how many videos the run has. (SQLite takes a bare column of a MIN() group from the row
        with the minimum.)"""
        self._db.execute("DELETE FROM videos")
        self._db.execute(
            "INSERT INTO videos (video_id, uri, size_bytes) SELECT video_id, uri, size_bytes FROM "
            "(SELECT video_id, uri, size_bytes, MIN(rank) FROM inputs WHERE video_id IS NOT NULL GROUP BY video_id)"
        )
        return self.n_videos

    # videos

    @property
    def n_videos(self) -> int:
        return self._count("SELECT COUNT(*) FROM videos")

    def video_ids(self) -> list[str]:
        """Every video's id, sorted."""
        return [row[0] for row in self._db.execute("SELECT video_id FROM videos ORDER BY video_id")]

    def primary_uri(self, video_id: str) -> str:
        row = self._db.execute("SELECT uri FROM videos WHERE video_id = ?", (video_id,)).fetchone()
        if row is None:
            raise KeyError(video_id)
        return _uri(row[0])

    def videos_among(self, video_ids: Iterable[str]) -> list[str]:
        """Those of ``video_ids`` that are videos of this run, sorted."""
        found: list[str] = []
        for page in pages(video_ids, _MAX_PARAMETERS):
            marks = ",".join("?" * len(page))
            found.extend(row[0] for row in self._db.execute(f"SELECT video_id FROM videos WHERE video_id IN ({marks})",
                                                            page))
        return sorted(found)

    @property
    def n_without_outcome(self) -> int:
        return self._count("SELECT COUNT(*) FROM videos v WHERE NOT EXISTS "
                           "(SELECT 1 FROM outcomes o WHERE o.video_id = v.video_id)")

    def largest_first(self) -> Iterator[tuple[str, str, int | None, float | None]]:
        """(video id, primary URI, bytes, duration) of each video without an outcome in this block,
        biggest files first (ties by id): workers finish close together instead of one starting
        the longest video last while the others sit idle (longest-processing-time-first). A page
        at a time: outcomes may be stored between pages (of videos already given)."""
        after: tuple[int, str] = (-1, "")  # (size, id) of the last one given; -1: none yet
        while page := self._db.execute(
            "SELECT v.video_id, v.uri, v.size_bytes, v.duration_s, COALESCE(v.size_bytes, 0) AS size FROM videos v "
            "WHERE NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.video_id = v.video_id) "
            "AND (? < 0 OR size < ? OR (size = ? AND v.video_id > ?)) "
            "ORDER BY size DESC, v.video_id LIMIT ?",
            (after[0], after[0], after[0], after[1], PAGE),
        ).fetchall():
            after = (page[-1][4], page[-1][0])
            for video_id, key, size, duration, _size in page:
                yield video_id, _uri(key), size, duration

    # the current block's outcomes

    def start_block(self) -> None:
        """The last block's outcomes leave only each video's duration behind."""
        self._db.execute("UPDATE videos SET duration_s = (SELECT o.duration_s FROM outcomes o "
                         "WHERE o.video_id = videos.video_id)")
        self._db.execute("DELETE FROM outcomes")

    def put_outcomes(self, outcomes: Iterable[VideoOutcome]) -> None:
        self._many(
            "INSERT OR REPLACE INTO outcomes (video_id, state, n_samples, duration_s, outcome) VALUES (?, ?, ?, ?, ?)",
            ((o.video_id, o.state, o.n_samples, o.duration_s, o.to_json().decode()) for o in outcomes),
        )

    def put_outcome(self, outcome: VideoOutcome) -> int:
        """Store one outcome; returns 1 when the video had none in this block yet, else 0."""
        had = self._db.execute("SELECT 1 FROM outcomes WHERE video_id = ?", (outcome.video_id,)).fetchone()
        self.put_outcomes([outcome])
        return 0 if had else 1

    @property
    def n_outcomes(self) -> int:
        return self._count("SELECT COUNT(*) FROM outcomes")

    def with_outcome(self, state: str | None = None, with_samples: bool = False) -> Iterator[str]:
        """Ids of the videos with an outcome (in ``state``; with samples), sorted, a page at a time."""
        sql = ("SELECT video_id FROM outcomes WHERE video_id > ? AND (? IS NULL OR state = ?) "
               "AND (NOT ? OR n_samples > 0) ORDER BY video_id LIMIT ?")
        after = ""
        while page := [row[0] for row in self._db.execute(sql, (after, state, state, with_samples, PAGE))]:
            after = page[-1]
            yield from page

    def outcomes(self) -> Iterator[VideoOutcome]:
        """The block's outcomes in id order, a page at a time."""
        after = ""
        while page := self._db.execute(
            "SELECT video_id, outcome FROM outcomes WHERE video_id > ? ORDER BY video_id LIMIT ?", (after, PAGE)
        ).fetchall():
            after = page[-1][0]
            yield from (VideoOutcome.from_json(text) for _video_id, text in page)

    def input_rows(self) -> Iterator[tuple[str, InputIdentity, str | None, VideoOutcome | None]]:
        """(URI, identity, its video's primary URI, its video's outcome) of every input in order,
        a page at a time: what a row of the videos table is made of."""
        after = -1
        while page := self._db.execute(
            "SELECT i.position, i.uri, i.identity, v.uri, o.outcome FROM inputs i "
            "LEFT JOIN videos v ON v.video_id = i.video_id LEFT JOIN outcomes o ON o.video_id = i.video_id "
            "WHERE i.position > ? ORDER BY i.position LIMIT ?",
            (after, PAGE),
        ).fetchall():
            after = page[-1][0]
            for _position, key, identity, primary, outcome in page:
                if identity is None:
                    raise LookupError(f"input {_uri(key)!r} was never identified")
                yield (
                    _uri(key),
                    InputIdentity.from_json(identity),
                    None if primary is None else _uri(primary),
                    None if outcome is None else VideoOutcome.from_json(outcome),
                )
