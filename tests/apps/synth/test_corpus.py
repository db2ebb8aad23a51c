"""The generated corpus, read back as a pipeline would: ffprobe, decoded frames and audio, a real
face model, a real scene detector. Slow: it generates eight 8-second videos once per session."""

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from synth_media import CORPUS_DURATION_S, CORPUS_SEED, decode_audio, decode_frames, face_in_box, probe

from apps.synth.corpus import generate_corpus
from apps.synth.speech import frame_envelope
from apps.synth.truth import SMALL_FACE_PX, VideoTruth, load_truth
from apps.synth.video_kinds import VIDEO_KINDS
from schemas.performer_states import PerformerState

pytestmark = pytest.mark.slow


def _index(corpus: Path) -> dict:
    return json.loads((corpus / "corpus.json").read_text())


def _truths(corpus: Path) -> list[VideoTruth]:
    return [load_truth(corpus / v["truth"]) for v in _index(corpus)["videos"]]


@dataclass
class TrackMeasure:
    truth: VideoTruth
    track_index: int
    frames: list[int]
    found: list[bool]
    iou: list[float]
    lip_gap: list[float]
    envelope: list[float]
    state: list[int]


@pytest.fixture(scope="module")
def measures(small_corpus, landmarker) -> list[TrackMeasure]:
    """The FaceLandmarker on up to 40 evenly spread frames of every track."""
    out = []
    for truth in _truths(small_corpus):
        frames = decode_frames(small_corpus / truth.video)
        envelope = frame_envelope(decode_audio(small_corpus / truth.video), truth.fps, truth.n_frames)
        for track in truth.tracks:
            m = TrackMeasure(truth, track.track_index, [], [], [], [], [], [])
            count = min(40, track.last_frame - track.first_frame + 1)
            for frame in np.unique(np.linspace(track.first_frame, track.last_frame, count).round().astype(int)):
                offset = frame - track.first_frame
                seen = face_in_box(landmarker, frames[frame], track.boxes[offset])
                m.frames.append(frame)
                m.found.append(seen is not None)
                m.iou.append(seen[1] if seen else 0.0)
                m.lip_gap.append(seen[0].inner_lip_gap if seen else np.nan)
                m.envelope.append(float(envelope[frame]))
                m.state.append(int(track.states[offset]))
            out.append(m)
    return out


def test_corpus_index_lists_every_kind_and_identity(small_corpus):
    index = _index(small_corpus)
    assert [v["kind"] for v in index["videos"]] == [k.name for k in VIDEO_KINDS]
    assert len(index["identities"]) >= 4
    for video in index["videos"]:
        assert (small_corpus / video["video"]).is_file() and (small_corpus / video["truth"]).is_file()
    # Identities recur across videos (something for identity clustering to find).
    assert sum(len(i["videos"]) >= 2 for i in index["identities"]) >= 4


def test_video_files_match_their_truth(small_corpus):
    for truth in _truths(small_corpus):
        info = probe(small_corpus / truth.video)
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert video["codec_name"] == "h264" and audio["codec_name"] == "aac"
        assert (video["width"], video["height"]) == (truth.width, truth.height) == (640, 360)
        assert video["r_frame_rate"] == video["avg_frame_rate"] == "25/1"
        assert int(video["nb_read_frames"]) == truth.n_frames == round(CORPUS_DURATION_S * 25)
        assert float(video["duration"]) == pytest.approx(truth.duration_s, abs=0.001)
        assert float(audio["duration"]) == pytest.approx(truth.duration_s, abs=0.05)


def test_truth_is_self_consistent(small_corpus):
    for t in _truths(small_corpus):
        assert [s.first_frame for s in t.shots] == [0] + [s.last_frame + 1 for s in t.shots[:-1]]
        assert t.shots[-1].last_frame == t.n_frames - 1
        assert all(s.last_frame - s.first_frame + 1 >= 2 * t.fps for s in t.shots)
        conversants = {p.person_id for p in t.persons if p.role == "conversant"}
        assert {s for s in t.speaker if s is not None} <= conversants
        for u in t.utterances:
            assert 0 <= u.t_start < u.t_end <= t.duration_s and u.speaker in conversants
        for track in t.tracks:
            shot = t.shots[track.shot_index]
            assert shot.first_frame <= track.first_frame <= track.last_frame <= shot.last_frame
            assert len(track.boxes) == len(track.states) == track.last_frame - track.first_frame + 1
            expected = [PerformerState.IDLE if s is None else PerformerState.SPEAKING if s == track.person_id
                        else PerformerState.LISTENING for s in t.speaker[track.first_frame : track.last_frame + 1]]
            assert track.states.tolist() == expected
            assert (track.boxes[:, 0] >= 0).all() and (track.boxes[:, 2] <= t.width).all()


def test_audio_follows_the_utterance_timeline(small_corpus):
    for t in _truths(small_corpus):
        audio = decode_audio(small_corpus / t.video)
        rate = t.audio_sample_rate
        inside = np.zeros(audio.size, bool)
        near = np.zeros(audio.size, bool)
        for u in t.utterances:
            inside[int(u.t_start * rate) : int(u.t_end * rate)] = True
            near[max(0, int((u.t_start - 0.1) * rate)) : int((u.t_end + 0.1) * rate)] = True
        speech_rms = np.sqrt(np.mean(audio[inside] ** 2))
        silence_rms = np.sqrt(np.mean(audio[~near] ** 2))
        assert speech_rms > 20 * silence_rms, t.name


def test_every_face_is_found_where_the_truth_puts_it(measures):
    for m in measures:
        track = m.truth.tracks[m.track_index]
        where = f"{m.truth.name} track {m.track_index} ({track.person_id}, {track.flags})"
        assert np.mean(m.found) >= 0.9, where
        assert np.median(m.iou) >= (0.5 if "small_face" in track.flags else 0.7), where
    seen = {(m.truth.name, m.truth.tracks[m.track_index].person_id) for m in measures}
    for truth in {m.truth.name: m.truth for m in measures}.values():
        for person in truth.persons:
            assert (truth.name, person.person_id) in seen, f"{person.person_id} never visible in {truth.name}"


def test_lips_follow_the_own_voice_and_listeners_keep_still(measures):
    correlations = []
    silent_gaps, speaking_gaps = [], []
    for m in measures:
        track = m.truth.tracks[m.track_index]
        if track.flags or "noisy" in m.truth.shots[track.shot_index].flags:
            continue
        gap = np.array(m.lip_gap)
        speaking = (np.array(m.state) == PerformerState.SPEAKING) & ~np.isnan(gap)
        silent = (np.array(m.state) != PerformerState.SPEAKING) & ~np.isnan(gap)
        silent_gaps.extend(gap[silent])
        speaking_gaps.extend(gap[speaking])
        if speaking.sum() >= 15:
            correlations.append(np.corrcoef(gap[speaking], np.array(m.envelope)[speaking])[0, 1])
    assert len(correlations) >= 6
    assert np.median(correlations) > 0.6 and min(correlations) > 0.3, correlations
    assert np.percentile(silent_gaps, 90) < 0.02
    assert np.mean(speaking_gaps) > 3 * np.mean(silent_gaps)


def test_small_faces_are_small_and_flagged(small_corpus):
    small, normal = [], []
    for t in _truths(small_corpus):
        for track in t.tracks:
            heights = track.boxes[:, 3] - track.boxes[:, 1]
            (small if "small_face" in track.flags else normal).append(heights)
        assert t.expected_rejections()["small_face_tracks"] == [
            tr.track_index for tr in t.tracks if "small_face" in tr.flags]
    assert small and all(h.max() < SMALL_FACE_PX for h in small)
    assert all(np.median(h) > 90 for h in normal)


def test_passer_by_is_brief_flagged_and_not_a_conversant(small_corpus):
    truth = next(t for t in _truths(small_corpus) if t.kind == "passer_by")
    passers = [tr for tr in truth.tracks if "passer_by" in tr.flags]
    assert passers and all(tr.last_frame - tr.first_frame + 1 < 2 * truth.fps for tr in passers)
    passer = next(p for p in truth.persons if p.role == "passer_by")
    assert {tr.person_id for tr in passers} == {passer.person_id}
    assert passer.person_id not in set(truth.speaker)


def test_noisy_shot_is_really_degraded(small_corpus):
    truth = next(t for t in _truths(small_corpus) if t.kind == "noisy_shot")
    frames = decode_frames(small_corpus / truth.video)

    def grain(frame: np.ndarray) -> float:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return float(np.abs(grey - cv2.medianBlur(grey.astype(np.uint8), 3)).mean())

    noisy = [s for s in truth.shots if "noisy" in s.flags]
    assert len(noisy) == 1
    inside = np.mean([grain(frames[f]) for f in range(noisy[0].first_frame, noisy[0].last_frame + 1, 5)])
    clean = [f for s in truth.shots if not s.flags for f in range(s.first_frame, s.last_frame + 1, 5)]
    outside = np.mean([grain(frames[f]) for f in clean])
    assert inside > 2.5 * outside


def test_a_scene_detector_finds_every_cut(small_corpus):
    from scenedetect import ContentDetector, detect

    hits = misses = false = 0
    for t in _truths(small_corpus):
        cuts = [s.first_frame for s in t.shots[1:]]
        found = [scene[0].frame_num for scene in detect(str(small_corpus / t.video), ContentDetector())[1:]]
        matched = [c for c in cuts if any(abs(f - c) <= 1 for f in found)]
        hits += len(matched)
        misses += len(cuts) - len(matched)
        false += sum(not any(abs(f - c) <= 1 for c in cuts) for f in found)
    precision, recall = hits / max(hits + false, 1), hits / max(hits + misses, 1)
    assert hits >= len(_truths(small_corpus))  # at least one cut per video
    assert 2 * precision * recall / (precision + recall) >= 0.95


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(small_corpus, tmp_path):
    again = generate_corpus(tmp_path / "again", n_videos=1, seed=CORPUS_SEED, duration_s=CORPUS_DURATION_S)
    first = _index(small_corpus)["videos"][0]
    assert again[0].read_bytes() == (small_corpus / first["video"]).read_bytes()
    assert (tmp_path / "again" / first["truth"]).read_bytes() == (small_corpus / first["truth"]).read_bytes()
    other = generate_corpus(tmp_path / "other", n_videos=1, seed=CORPUS_SEED + 1, duration_s=CORPUS_DURATION_S)
    assert other[0].read_bytes() != again[0].read_bytes()
    first_other = load_truth(tmp_path / "other" / first["truth"])
    assert first_other.utterances != load_truth(small_corpus / first["truth"]).utterances
