"""Hostile names and values: quotes, SQL fragments, path tricks, escaping tar members."""

import io
import json
import subprocess
import sys
import tarfile

import pytest

from curation.dataset.shard_reader import verify_shards
from curation.manifests.manifest_writer import write_manifest
from curation.store.run_store import RunStore
from schemas.sample_layout import safe_key

HOSTILE_NAMES = [
    "it's \"quoted\"; DROP TABLE videos; --.mp4",
    "..dots..and spaces ünïcødé.mp4",
    "$(touch pwned) `id`.mp4",
]


def test_sample_keys_never_carry_separators_dots_or_parents():
    for parts in [("a/b", "c"), ("../../etc", "passwd"), ("x.y.z",), ("q'\"; DROP",)]:
        key = safe_key(*parts)
        assert "/" not in key and "." not in key and "\\" not in key and ".." not in key
        assert key.replace("-", "").replace("_", "").isalnum()


def test_hostile_file_names_go_through_a_run_and_a_query_unharmed(shared_media, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in HOSTILE_NAMES:
        (inputs / name).symlink_to(shared_media / "talkvid_tys_gt.mp4")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "apps.cli.main", "run", "--input", str(inputs), "--out", str(out),
                          "--workflow", "ingest", "--executor", "local"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "pwned").exists() and not (inputs / "pwned").exists()
    query = subprocess.run([sys.executable, "-m", "apps.cli.main", "query", str(out),
                            "SELECT uri, state, duplicate_of FROM videos ORDER BY uri", "--format", "json"],
                           capture_output=True, text=True, timeout=120)
    rows = json.loads(query.stdout)
    assert sorted(r["uri"].rsplit("/", 1)[-1] for r in rows) == sorted(HOSTILE_NAMES)
    assert len({r["state"] for r in rows}) == 1, "one content, one state, recorded under every name"
    assert sum(r["duplicate_of"] is None for r in rows) == 1


def test_hostile_strings_in_manifests_are_data_not_sql(tmp_path):
    store = RunStore(str(tmp_path))
    evil = "x'); DROP TABLE rejections; --"
    write_manifest(store, "rejections", [{"entity": "segment", "entity_id": evil, "video_id": "v", "uri": evil,
                                          "state": "rejected", "stage": "s", "reason": "error", "detail": evil}])
    from curation.manifests.duckdb_views import open_catalog

    with open_catalog(store) as con:
        assert con.execute("SELECT detail FROM rejections").fetchall() == [(evil,)]
        assert con.execute("SELECT count(*) FROM rejections").fetchone() == (1,)


def test_a_shard_member_that_escapes_the_folder_is_flagged_and_never_extracted(tmp_path):
    store = RunStore(str(tmp_path))
    (tmp_path / "shards").mkdir()
    payload = b"not yours"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    data = buffer.getvalue()
    (tmp_path / "shards" / "shard-000000.tar").write_bytes(data)
    import hashlib

    index = {"schema_version": "1.0", "shard": "shard-000000.tar", "bucket": "",
             "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "n_samples": 1, "samples": [{"key": "../../escaped", "members": {"txt": {
                 "offset": 512, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}}}]}
    (tmp_path / "shards" / "shard-000000.json").write_text(json.dumps(index))
    write_manifest(store, "shards", [{"shard": "shard-000000.tar", "path": "shards/shard-000000.tar", "bucket": "",
                                      "n_samples": 1, "bytes": len(data), "sha256": index["sha256"],
                                      "index_path": "shards/shard-000000.json"}])
    write_manifest(store, "segments", [])
    report = verify_shards(store)
    assert any("unsafe sample key" in p for p in report.problems)
    assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
    with pytest.raises(ValueError, match="unsafe"):
        from curation.dataset.shard_reader import read_sample

        read_sample(store, "shards/shard-000000.tar", "../../escaped")
