"""Verdicts: a strict schema on every field, undo, bad files skipped and reported by every reader,
and no symbolic link followed under ``reviews/`` (hostile verdict files)."""

import json
import re
import uuid
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from apps.cli.main import main
from curation.manifests.review_verdicts import (
    Verdict,
    VerdictError,
    latest_verdicts,
    now_utc,
    read_verdict_files,
    read_verdicts,
    record_verdict,
)
from curation.manifests.verdict_files import UnsafeReviewsPathError
from curation.store.run_store import RunStore
from tests.curation.pipeline_runs import run_cli
from tests.curation.review_runs import copy_run


def verdict(**changes: object) -> Verdict:
    base = Verdict(verdict_id=uuid.uuid4().hex, reviewer="alice", time=now_utc(), item="seg-1", item_kind="kept",
                   stratum="speaking", verdict="accept")
    return replace(base, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"note": ["x"]}, "note must be a string or null, not a list"),
    ({"note": {"a": 1}}, "note must be a string or null, not an object"),
    ({"verdict": "reject", "reason": 3}, "reason must be a string or null, not a number"),
    ({"verdict": ["accept"]}, "verdict must be a string, not a list"),
    ({"reviewer": None}, "reviewer must be a string, not null"),
    ({"item": 17}, "item must be a string, not a number"),
    ({"verdict_id": True}, "verdict_id must be a string, not a boolean"),
    ({"stratum": ["speaking"]}, "stratum must be a string, not a list"),
    ({"time": "yesterday"}, "time must be an ISO 8601 time"),
    ({"stratum": ""}, "stratum must be 1-200 characters"),
    ({"verdict": "undo", "reason": "other"}, "an undo takes no reason"),
])
def test_check_refuses_every_wrong_type_with_a_clear_message(changes: dict, message: str) -> None:
    with pytest.raises(VerdictError, match=re.escape(message)):
        verdict(**changes).check()


def test_a_stored_verdict_has_exactly_the_fields_of_a_verdict() -> None:
    good = asdict(verdict())
    assert Verdict.from_dict(good) == Verdict(**good)
    with pytest.raises(VerdictError, match=r"unknown field\(s\) \['admin'\]"):
        Verdict.from_dict({**good, "admin": True})
    with pytest.raises(VerdictError, match=r"missing field\(s\) \['note'\]"):
        Verdict.from_dict({k: v for k, v in good.items() if k != "note"})
    with pytest.raises(VerdictError, match="a verdict is a JSON object, not list"):
        Verdict.from_dict([good])


def test_a_list_note_is_never_stored(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "run"))
    with pytest.raises(VerdictError, match="note must be"):
        record_verdict(store, verdict(note=["x"]))
    assert not (tmp_path / "run" / "reviews").exists() or not list((tmp_path / "run" / "reviews").rglob("*.json"))


def test_undo_withdraws_the_standing_verdict_and_the_one_before_stands_again(tmp_path: Path) -> None:
    store = RunStore(str(tmp_path / "run"))
    for step, changes in enumerate(({"verdict": "accept"}, {"verdict": "reject", "reason": "out_of_sync"},
                                    {"verdict": "undo"},
                    {"item": "seg-2", "verdict": "accept"}, {"item": "seg-2", "verdict": "undo"},
                    {"item": "seg-3", "verdict": "undo"})):  # an undo with nothing to undo changes nothing
        # one second apart, as a person clicks: now_utc() twice in one millisecond tied, and the
        # tie went to the verdict ids' order (the undo could come before what it withdraws)
        assert record_verdict(store, verdict(time=f"2026-11-25T10:00:{step:02d}.000+00:00", **changes))
    standing = {v.item: v.verdict for v in latest_verdicts(read_verdicts(store))}
    assert standing == {"seg-1": "accept"}
    assert len(read_verdicts(store)) == 6, "an undo is recorded, nothing is deleted"


def test_no_write_through_a_linked_reviewer_folder_or_reviews_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    run = tmp_path / "run"
    (run / "reviews").mkdir(parents=True)
    (run / "reviews" / "eve").symlink_to(outside, target_is_directory=True)
    store = RunStore(str(run))
    with pytest.raises(UnsafeReviewsPathError, match="reviews/eve is a symbolic link"):
        record_verdict(store, verdict(reviewer="eve"))
    assert list(outside.iterdir()) == []
    # a link planted under a verdict's own name is not replaced, and nothing is written through it
    planted = verdict(reviewer="bob")
    (run / "reviews" / "bob").mkdir()
    (run / "reviews" / "bob" / f"{planted.verdict_id}.json").symlink_to(outside / "target.json")
    assert record_verdict(store, planted) is False
    assert list(outside.iterdir()) == []
    linked_run = tmp_path / "linked"
    (linked_run).mkdir()
    (linked_run / "reviews").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeReviewsPathError, match="reviews is a symbolic link"):
        record_verdict(RunStore(str(linked_run)), verdict())
    assert list(outside.iterdir()) == []


def plant_bad_files(run: Path, good: dict, outside: Path) -> list[str]:
    """Hand-written hostile files under reviews/; returns the relative paths expected to be reported."""
    folder = run / "reviews" / "mallory"
    folder.mkdir(parents=True)
    bad = {}
    list_note = {**good, "verdict_id": uuid.uuid4().hex, "reviewer": "mallory", "note": ["x"]}
    bad["list_note"] = (folder / f"{list_note['verdict_id']}.json", json.dumps(list_note))
    bad["not_json"] = (folder / f"{uuid.uuid4().hex}.json", '{"verdict": "accept", ')
    bad["binary"] = (folder / f"{uuid.uuid4().hex}.json", b"\xff\xfe\x00garbage")
    extra = {**good, "verdict_id": uuid.uuid4().hex, "reviewer": "mallory", "admin": True}
    bad["extra_key"] = (folder / f"{extra['verdict_id']}.json", json.dumps(extra))
    other = {**good, "verdict_id": uuid.uuid4().hex}  # alice's verdict filed under mallory
    bad["wrong_folder"] = (folder / f"{other['verdict_id']}.json", json.dumps(other))
    bad["deep"] = (folder / f"{uuid.uuid4().hex}.json", "[" * 15_000 + "]" * 15_000)
    bad["huge"] = (folder / f"{uuid.uuid4().hex}.json", " " * 100_000 + json.dumps(good))
    for path, data in bad.values():
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    # links: a verdict file and a whole reviewer folder pointing at good verdicts outside the run
    linked = {**good, "verdict_id": uuid.uuid4().hex, "reviewer": "mallory"}
    (outside / "linked.json").write_text(json.dumps(linked))
    (folder / f"{linked['verdict_id']}.json").symlink_to(outside / "linked.json")
    (outside / "trudy").mkdir()
    other = {**good, "verdict_id": uuid.uuid4().hex, "reviewer": "trudy"}
    (outside / "trudy" / f"{other['verdict_id']}.json").write_text(json.dumps(other))
    (run / "reviews" / "trudy").symlink_to(outside / "trudy", target_is_directory=True)
    names = [str(p.relative_to(run)) for p, _ in bad.values()]
    return sorted([*names, f"reviews/mallory/{linked['verdict_id']}.json", "reviews/trudy"])


@pytest.mark.slow
def test_every_reader_skips_and_reports_bad_verdict_files(talking_heads_run: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run(talking_heads_run, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    store = RunStore(str(run))
    segments = json.loads(run_cli("query", str(run), "SELECT segment_id, state FROM segments ORDER BY 1",
                                  "--format", "json").stdout)
    good = verdict(item=segments[0]["segment_id"], stratum=segments[0]["state"], verdict="reject",
                   reason="out_of_sync", note="lips late")
    assert record_verdict(store, good)
    expected_bad = plant_bad_files(run, asdict(good), outside)

    files = read_verdict_files(store)
    assert files.verdicts == [good]
    assert sorted(line.split(": ", 1)[0] for line in files.bad) == expected_bad
    assert any("note must be a string or null, not a list" in line for line in files.bad)

    assert main(["status", str(run), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["verdicts"], status["bad_verdict_files"]) == (1, len(expected_bad))
    result = run_cli("status", str(run))
    assert result.returncode == 0 and f"bad verdict files: {len(expected_bad)}" in result.stdout, result.stderr
    query = run_cli("query", str(run), "SELECT verdict_id, note FROM reviews", "--format", "json")
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == [{"verdict_id": good.verdict_id, "note": "lips late"}]
    for args in (("export", str(run), "--where", "TRUE", "--to", str(tmp_path / "exported"),
                  "--exclude-rejected-by-review"),
                 ("audit", str(run), "--html", str(tmp_path / "audit.html")),
                 ("report", str(run), "--html", str(tmp_path / "report.html")),
                 ("review-report", str(run), "--json")):
        result = run_cli(*args, timeout=600)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr[-2000:])
    exported = json.loads(run_cli("query", str(tmp_path / "exported"), "SELECT segment_id FROM segments",
                                  "--format", "json").stdout)
    assert good.item not in {row["segment_id"] for row in exported}, "the good reject still excludes its segment"
    assert len(exported) == len(segments) - 1
