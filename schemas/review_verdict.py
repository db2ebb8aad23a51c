"""A reviewer's verdict on one sampled item, and the closed list of reasons to reject one.

An auditor reviews two kinds of item: a kept segment (``accept``: the sample is what its record
says, e.g. a real listener with the partner's voice; ``reject``: it is not) and a rejection
(``accept``: the item deserved to be dropped for that reason; ``reject``: it did not). The
precision of a state or of a rejection reason is the share of its reviewed items accepted.
"""

from enum import StrEnum

import pyarrow as pa

from schemas.version import SCHEMA_VERSION

# "undo" withdraws the reviewer's standing verdict on the item (see curation/manifests/review_verdicts.py)
VERDICTS = ("accept", "reject", "undo")
ITEM_KINDS = ("kept", "rejected")


class ReviewReason(StrEnum):
    WRONG_STATE = "wrong_state"
    OUT_OF_SYNC = "out_of_sync"
    WRONG_AUDIO = "wrong_audio"
    FACE_PROBLEM = "face_problem"
    MULTIPLE_PEOPLE = "multiple_people"
    LOW_QUALITY = "low_quality"
    BAD_CROP = "bad_crop"
    CAPTION_WRONG = "caption_wrong"
    REFERENCES_WRONG = "references_wrong"
    WRONGLY_REJECTED = "wrongly_rejected"
    OTHER = "other"


REVIEW_REASON_DESCRIPTIONS: dict[ReviewReason, str] = {
    ReviewReason.WRONG_STATE: "the performer is not speaking / listening / idle as labelled",
    ReviewReason.OUT_OF_SYNC: "lips and the driving audio do not line up",
    ReviewReason.WRONG_AUDIO: "the audio is not the voice that drives this performer",
    ReviewReason.FACE_PROBLEM: "face hidden, turned away, cut off or too small",
    ReviewReason.MULTIPLE_PEOPLE: "more than one person competes for the frame",
    ReviewReason.LOW_QUALITY: "blur, darkness, compression artefacts, frozen frames",
    ReviewReason.BAD_CROP: "the crop misses or jitters around the performer",
    ReviewReason.CAPTION_WRONG: "the caption claims what the clip does not show",
    ReviewReason.REFERENCES_WRONG: "a reference shows another person or comes from inside the clip",
    ReviewReason.WRONGLY_REJECTED: "a rejected item that should have been kept",
    ReviewReason.OTHER: "something else: the note says what",
}

assert set(REVIEW_REASON_DESCRIPTIONS) == set(ReviewReason), "every review reason needs a description"

REVIEWS = pa.schema(
    [
        ("verdict_id", pa.string()),  # 32 hex digits, chosen by the client: a retried POST is one verdict
        ("reviewer", pa.string()),
        # UTC; stored without a zone so a query's Python result needs no time-zone package
        ("time", pa.timestamp("ms")),
        ("item", pa.string()),  # segment_id for kept items, "<entity>:<entity_id>" for rejections
        ("item_kind", pa.string()),  # kept | rejected
        ("stratum", pa.string()),  # the state (kept) or the rejection reason (rejected) when reviewed
        ("verdict", pa.string()),  # accept | reject | undo (withdraws the standing one)
        ("reason", pa.string()),  # ReviewReason code when rejected, else null
        ("note", pa.string()),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "table": "reviews"},
)
