"""How long one video may hold its worker before the watchdog stops it (``--video-timeout-s``).

A video that hangs a decoder, a model or a network read would otherwise hold its actor for ever
and the run would never end. The watchdog (``actor_pools``) kills the actor of a video that runs
past its limit and starts another; the video starts over (a read that stalled is not met again),
and is recorded as failed with ``timeout`` (an infrastructure failure: a resumed run tries it
again) only when it ran past the limit on every try. The clock starts once the actor is up, so
model loading does not count.

Without ``--video-timeout-s`` the limit is generous and grows with the video: 30 minutes, plus
ten times its duration once it is known (the blocks after the first), or ten seconds per MB of
file before that (a 1 GB file: about 3 hours). Analysis on one CPU runs at about real time, so
only a stuck video reaches it.
"""

BASE_S = 1800.0
PER_MEDIA_SECOND = 10.0
PER_MB = 10.0


def video_timeout_s(chosen: float | None, size_bytes: int | None, duration_s: float | None) -> float:
    if chosen is not None:
        return chosen
    if duration_s:
        return BASE_S + PER_MEDIA_SECOND * duration_s
    return BASE_S + PER_MB * (size_bytes or 0) / 1e6
