"""The visual-analysis targets on the labelled shared clips, through the ``analysis`` workflow on Ray.

Every ``talking_head`` clip yields a usable performer track covering at least 90 % of its shot;
every ``no_face`` clip ends rejected ``no_face`` or for a quality reason checked before faces;
nothing fails. Five ``no_face`` labels are known exceptions, each looked at: clips that do show
people (label errors) and false detections, listed with the reason they get, so that any new
deviation fails here.
"""

from pathlib import Path

import pytest
from pipeline_runs import manifest

from curation.config.workflow import load_workflow
from curation.run.pipeline import RunRequest, run_pipeline
from stages.workflow_stages import WORKFLOW_STAGES

QUALITY_BEFORE_FACES = {"low_quality", "shot_too_short"}
# no_face label -> the reason it gets and why that is not a regression.
# With the analysis cascade (issue 17) two label errors whose people are seen too small to be searched
# for away from a performer-sized face (a man driving, rugby players far away; both face_too_small
# when every frame was landmarked) read no_face, as labelled, and one clip changed the other way.
KNOWN_NO_FACE_EXCEPTIONS = {
    "panda_R_YVZHusX4w.6.mp4": ("face_too_small", "label error: two people, both seen small"),
    # multiple_faces when every frame was landmarked; the cascade skips the shot on its coarse
    # evidence (a face on 24 % of coarse frames, the men mostly in profile) and says so
    "panda_mxB5DCinF0I.7.mp4": ("face_coverage_low", "label error: three men at a table"),
    "panda_3blNgn1nul0.0.mp4": ("face_coverage_low", "false face: a round dark pitcher, found on tiles"),
    # no_face when every frame was landmarked (no track held it 0.4 s): the coarse pass's detector,
    # confirmed by the landmarker on its crop, sees a ~36 px face on 11 % of its frames
    "panda_2uHKKUBTWjY.1.mp4": ("face_too_small", "a street with cars and houses, no face seen by eye"),
    # no_face when every frame was landmarked; the detector, confirmed by the landmarker on its
    # crop, finds the generated cat's and dog's faces on 12 % of the coarse frames
    "minrf_output.mp4": ("face_coverage_low", "false faces: a grid of generated animals and objects"),
}


@pytest.mark.slow
def test_analysis_targets_on_the_labelled_clips(
    ray_session: str, shared_media: Path, media_manifest: list, tmp_path: Path
) -> None:
    wanted = [e for e in media_manifest if e.label in ("talking_head", "no_face")]
    listing = tmp_path / "inputs.txt"
    listing.write_text("\n".join(str(shared_media / e.file) for e in wanted))
    out = tmp_path / "run"
    workflow = load_workflow("analysis", WORKFLOW_STAGES, [])
    result = run_pipeline(RunRequest(input=str(listing), out=str(out), workflow=workflow, executor="ray"))
    assert result.accounting.failed == 0
    assert result.accounting.inputs == len(wanted) == 65

    videos = {Path(r["uri"]).name: r for r in manifest(out)}
    tracks = manifest(out, "tracks")
    wrong = {}
    for entry in wanted:
        row = videos[entry.file]
        if entry.label == "talking_head":
            usable = [t for t in tracks if t["video_id"] == row["video_id"] and t["usable"]]
            coverage = max((t["coverage"] for t in usable), default=0.0)
            if coverage < 0.9:
                wrong[entry.file] = (coverage, row["reason"], row["detail"])
        elif entry.file in KNOWN_NO_FACE_EXCEPTIONS:
            if row["reason"] != KNOWN_NO_FACE_EXCEPTIONS[entry.file][0]:
                wrong[entry.file] = (row["reason"], row["detail"])
        elif row["state"] != "rejected" or row["reason"] not in {"no_face", *QUALITY_BEFORE_FACES}:
            wrong[entry.file] = (row["state"], row["reason"], row["detail"])
    assert not wrong
    no_face = [e for e in wanted if e.label == "no_face"]
    as_labelled = sum(videos[e.file]["reason"] in {"no_face", *QUALITY_BEFORE_FACES} for e in no_face)
    assert as_labelled == len(no_face) - len(KNOWN_NO_FACE_EXCEPTIONS) == 52
