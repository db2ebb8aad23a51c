"""A rejection in the audit gallery: an input no video id was given to still shows its own path."""

from pathlib import Path

from apps.audit.gallery import _rejected_item
from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.manifest_writer import write_manifest
from curation.manifests.review_sample import rejected_sample
from curation.store.run_store import RunStore
from schemas.tables import RejectionRow, VideoRow


def test_an_unreadable_input_is_shown_by_its_own_path(tmp_path: Path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    store = RunStore(str(tmp_path / "run"))
    # an empty file gets no video id, so the join to the videos table finds no uri for it
    write_manifest(store, "rejections", [RejectionRow(entity="video", entity_id="uri-525c541f4f088ff5f8b5",
                                                      uri=str(empty), state="rejected", stage="probe",
                                                      reason="empty_file", detail="0 bytes")])
    write_manifest(store, "videos", [VideoRow(video_id="v1", uri=str(tmp_path / "other.mp4"))])
    with open_catalog(store) as con:
        [(row, uri)] = rejected_sample(con, manifest_names(store), 4, 0, "entity_id")
    item = _rejected_item(row, uri)
    assert item.facts["uri"] == str(empty)
    assert item.group == "rejected: empty_file"
    assert item.image.startswith("data:")  # the placeholder: an empty file has no frame to show
