"""A rejection in the audit gallery: an input no video id was given to still shows its own path."""

from pathlib import Path

from apps.audit.gallery import _rejected_item


def test_an_unreadable_input_is_shown_by_its_own_path(tmp_path: Path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    # As the gallery's query returns it for an empty file: no video_id, so no uri from the videos join
    # (pandas gives NaN for the missing cell, and NaN is truthy).
    row = {"entity": "video", "entity_id": "uri-525c541f4f088ff5f8b5", "video_id": float("nan"),
           "uri": str(empty), "video_uri": float("nan"), "state": "rejected", "stage": "probe",
           "reason": "empty_file", "detail": "0 bytes", "t_start": float("nan"), "t_end": float("nan")}
    item = _rejected_item(row)
    assert item.facts["uri"] == str(empty)
    assert item.group == "rejected: empty_file"
    assert item.image.startswith("data:")  # the placeholder: an empty file has no frame to show
