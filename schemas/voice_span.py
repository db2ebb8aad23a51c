"""One voiced span of the voice-face association as ``states`` stores it and ``voice_identities``
and the sample writer read it (``VoiceFaces.spans``).

The association itself computes on ``annotators.speaking.voice_face_association.VoicedSpan``,
whose face and voice may be any label; stored, both are strings (the video's face group and voice
names), so the run store's plain data round-trips them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class VoiceSpan:
    track_id: str
    face: str  # the video's face group of the track (one person)
    voice: str | None  # None: the voice could not be described
    first: int  # frames of the track
    end: int
    sync: float  # lip-audio synchrony in context (``av_sync.sync_in_context``); NaN when unknown
