"""``lpm-curate export`` on a real run: the query's selection, verified, read by the three
WebDataset readers, byte-identical after a kill, review filter, hostile filters."""

import json
from pathlib import Path

import pytest
from pipeline_runs import cli_env, run_cli

from curation.dataset.shard_reader import read_sample
from curation.manifests.manifest_writer import read_manifest
from curation.manifests.review_verdicts import Verdict, now_utc, record_verdict
from curation.store.run_store import RunStore
from tests.curation.review_runs import copy_run

WHERE = "t_end - t_start > 3 AND state = 'speaking'"
SHARD_BYTES = "300000"


@pytest.fixture(scope="module")
def source(talking_heads_run, tmp_path_factory):
    return copy_run(talking_heads_run, tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory):
    dest = tmp_path_factory.mktemp("exports") / "clean"
    result = run_cli("export", str(source), "--where", WHERE, "--to", str(dest), "--shard-bytes", SHARD_BYTES)
    assert result.returncode == 0, result.stderr[-2000:]
    return dest


def count(out: Path, sql: str) -> int:
    result = run_cli("query", str(out), sql, "--format", "json")
    assert result.returncode == 0, result.stderr
    return next(iter(json.loads(result.stdout)[0].values()))


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tar_paths(out: Path) -> list[str]:
    return [str(out / row["path"]) for row in read_manifest(RunStore(str(out)), "shards").to_pylist()]


@pytest.mark.slow
def test_export_holds_exactly_the_selection_verified_and_byte_for_byte(source, exported):
    selected = count(source, f"SELECT count(*) FROM segments WHERE {WHERE}")
    assert 3 <= selected < count(source, "SELECT count(*) FROM segments"), "the query selects some, not all"
    assert count(exported, "SELECT count(*) FROM segments") == selected
    assert count(exported, "SELECT count(*) FROM segments WHERE NOT (" + WHERE + ")") == 0
    assert len(tar_paths(exported)) >= 2, "the small shard size makes several shards"
    status = run_cli("status", str(exported), "--verify")
    assert status.returncode == 0, status.stdout
    assert f"{selected} samples" in status.stdout and "OK" in status.stdout
    src, dst = RunStore(str(source)), RunStore(str(exported))
    for row in read_manifest(dst, "segments").to_pylist():
        original = next(r for r in read_manifest(src, "segments").to_pylist() if r["segment_id"] == row["segment_id"])
        assert read_sample(dst, row["shard"], row["key"]) == read_sample(src, original["shard"], original["key"])
    info = json.loads((exported / "run.json").read_text())
    assert info["state"] == "complete" and info["query"] == WHERE
    assert info["source"]["run"] == str(source) and info["review_filter"]["exclude_rejected_by_review"] is False
    identities = count(exported, "SELECT count(*) FROM identities WHERE identity_id NOT IN "
                                 "(SELECT identity_id FROM segments)")
    assert identities == 0, "manifests are restricted to the selection"


@pytest.mark.slow
def test_the_three_webdataset_readers_read_the_export(exported, ray_session):
    import ray.data
    import webdataset as wds
    from datasets import Features, Value, load_dataset

    keys = sorted(r["key"] for r in read_manifest(RunStore(str(exported)), "segments").to_pylist())
    tars = tar_paths(exported)
    assert sorted(s["__key__"] for s in wds.WebDataset(tars, shardshuffle=False)) == keys
    assert sorted(r["__key__"] for r in ray.data.read_webdataset(tars, decoder=None).take_all()) == keys
    # Real samples need explicit features for the HF loader, the source run's as much as an export's: it
    # infers types from the first samples, and these differ in reference count and their json's state
    # timeline mixes names and numbers. Features name the members to decode; the rest are skipped.
    features = Features({"__key__": Value("string"), "__url__": Value("string"), "mp4": Value("binary"),
                         "wav": Value("binary"), "txt": Value("string")})
    rows = list(load_dataset("webdataset", data_files={"train": tars}, split="train", streaming=True,
                             features=features))
    assert sorted(r["__key__"] for r in rows) == keys and all(r["mp4"][4:8] == b"ftyp" for r in rows)


def committed(dest: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every shard whose index is written, i.e. every committed shard."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted((dest / "shards").glob("*.tar"))
            if p.with_suffix(".json").exists()}


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["sample:3", "shard:1", "shard:2"])
def test_killed_export_rerun_keeps_committed_shards_and_is_byte_identical(source, exported, tmp_path, crash):
    dest = tmp_path / "killed"
    args = ("export", str(source), "--where", WHERE, "--to", str(dest), "--shard-bytes", SHARD_BYTES)
    killed = run_cli(*args, env=cli_env(LPM_CRASH_AT=crash))
    assert killed.returncode == -9, "SIGKILLed in the middle of writing"
    assert tree(dest) != tree(exported), "the kill left an unfinished export"
    assert json.loads((dest / "run.json").read_text())["state"] == "running"
    before = committed(dest)
    if crash.startswith("shard:"):
        assert len(before) == int(crash.split(":")[1]), "the shards committed before the kill"
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert tree(dest) == tree(exported)
    after = committed(dest)
    assert {name: after[name] for name in before} == before, "committed shards are kept, not rewritten"


@pytest.mark.slow
def test_a_damaged_shard_is_rewritten_on_rerun(source, exported, tmp_path):
    dest = tmp_path / "damaged"
    args = ("export", str(source), "--where", WHERE, "--to", str(dest), "--shard-bytes", SHARD_BYTES)
    assert run_cli(*args).returncode == 0
    shard = dest / "shards" / "shard-000000.tar"
    data = bytearray(shard.read_bytes())
    data[1000] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert run_cli("status", str(dest), "--verify").returncode == 1
    assert run_cli(*args).returncode == 0
    assert tree(dest) == tree(exported)


@pytest.mark.slow
def test_exclude_rejected_by_review_leaves_out_rejected_segments(source, tmp_path):
    store = RunStore(str(source))
    chosen = sorted(r["segment_id"] for r in read_manifest(store, "segments").to_pylist()
                    if r["state"] == "speaking" and r["t_end"] - r["t_start"] > 3)
    for n, (reviewer, item, verdict) in enumerate([("ann", chosen[0], "reject"), ("ann", chosen[1], "accept"),
                                                  ("ben", chosen[1], "accept"), ("ann", chosen[2], "reject"),
                                                  ("ben", chosen[2], "accept")]):
        record_verdict(store, Verdict(f"{0xE0 + n:032x}", reviewer, now_utc(), item, "kept", "speaking", verdict,
                                      "wrong_state" if verdict == "reject" else None))
    dest = tmp_path / "reviewed"
    result = run_cli("export", str(source), "--where", WHERE, "--to", str(dest), "--exclude-rejected-by-review")
    assert result.returncode == 0, result.stderr
    # chosen[0] rejected; chosen[2] a tie between ann and ben, which counts as reject
    assert count(dest, "SELECT count(*) FROM segments") == len(chosen) - 2
    info = json.loads((dest / "run.json").read_text())
    assert info["review_filter"]["excluded_segments"] == sorted([chosen[0], chosen[2]])
    assert f"exported {len(chosen) - 2} of {len(chosen)} selected segments (2 excluded by review)" in result.stdout


@pytest.mark.parametrize(("where", "message"), [
    ("1=1; COPY segments TO '/tmp/stolen-export.csv'", "not a valid SQL filter"),
    ("key IN (SELECT column0 FROM read_csv('/etc/passwd'))", "may not call table functions"),
    ("key = (SELECT content FROM read_text('/etc/passwd'))", "may not call table functions"),
    ("state = 'speaking' ORDER BY key", "not a valid SQL filter"),
])
@pytest.mark.slow
def test_export_refuses_a_where_that_is_not_a_filter(source, tmp_path, where, message):
    dest = tmp_path / "hostile"
    result = run_cli("export", str(source), "--where", where, "--to", str(dest))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not dest.exists() and not Path("/tmp/stolen-export.csv").exists()


@pytest.mark.slow
def test_a_selection_of_no_segments_is_refused_before_anything_is_written(source, tmp_path):
    dest = tmp_path / "nothing"
    result = run_cli("export", str(source), "--where", "state = 'no such state'", "--to", str(dest))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"error: --where \"state = 'no such state'\" selects no segments with a sample; nothing to export "
        f"(nothing was written to {dest})"]
    assert not dest.exists()


@pytest.mark.slow
def test_export_refuses_a_folder_holding_something_else(source, exported, tmp_path):
    result = run_cli("export", str(source), "--where", "state = 'idle' OR TRUE", "--to", str(exported))
    assert result.returncode == 2 and "already holds another run or export" in result.stderr
    assert run_cli("export", str(source), "--where", "TRUE", "--to", str(source)).returncode == 2


@pytest.mark.slow
def test_export_to_an_fsspec_uri_is_the_same_dataset(source, exported, tmp_path, monkeypatch):
    import tempfile

    from curation.dataset.shard_reader import verify_shards
    from curation.export.dataset_export import ExportRequest, export_dataset

    uri = "memory://lpm-export-test/dataset"
    local_temporaries = tmp_path / "tmp"
    local_temporaries.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(local_temporaries))
    result = export_dataset(ExportRequest(str(source), uri, WHERE, int(SHARD_BYTES)))
    assert not list(local_temporaries.iterdir()), "the local staging folder of a remote export is removed"
    remote = RunStore(uri)
    report = verify_shards(remote)
    assert report.ok, report.problems
    assert result.exported == report.samples == count(exported, "SELECT count(*) FROM segments")
    local = tree(exported)
    assert {path: remote.read_bytes(path) for path in local} == local, "the same bytes as the local export"


@pytest.mark.slow
def test_an_object_store_prefix_holding_other_files_is_refused_and_kept(source):
    from curation.export.dataset_export import ExportError, ExportRequest, export_dataset

    uri = "memory://lpm-export-test/users-prefix"
    theirs = RunStore(uri)
    theirs.write_bytes("shards/mine.tar", b"a user's file")
    try:
        with pytest.raises(ExportError, match="is not empty"):
            export_dataset(ExportRequest(str(source), uri, WHERE, int(SHARD_BYTES)))
        assert list(theirs.list("")) == ["shards"] and theirs.read_bytes("shards/mine.tar") == b"a user's file"
    finally:
        theirs.remove("")
