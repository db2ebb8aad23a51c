import subprocess
import sysconfig
from pathlib import Path

import cv2
import numpy as np
import pytest

from apps.synth import face_sources
from apps.synth.corpus import NotEnoughFacesError, load_portraits
from apps.synth.face_sources import FaceSourceError, PackagedPhoto, find_face_photos
from apps.synth.still_landmarks import CHIN, FOREHEAD_TOP


def test_packaged_photos_come_from_installed_packages():
    photos = find_face_photos()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert {p.source.split(":")[0] for p in photos} == {"insightface", "matplotlib", "skimage"}
    for photo in photos:
        assert photo.path.resolve().is_relative_to(site)
    # No photo ships with the project itself.
    repo = Path(__file__).resolve().parents[3]
    shipped = [f for folder in ("curation", "tests") for f in (repo / folder).rglob("*")
               if f.suffix.lower() in face_sources.IMAGE_SUFFIXES]
    assert shipped == []


def test_at_least_four_distinct_real_faces(portraits):
    assert len(portraits) >= 4
    ids = [p.person_id for p in portraits]
    assert len(set(ids)) == len(ids)
    # Distinct people: aligned grey face crops correlate far less than a face with itself.
    crops = []
    for p in portraits:
        top, chin = p.face.landmarks[FOREHEAD_TOP], p.face.landmarks[CHIN]
        half = int((chin[1] - top[1]) / 2)
        cx, cy = int((top[0] + chin[0]) / 2), int((top[1] + chin[1]) / 2)
        grey = cv2.cvtColor(p.image[cy - half : cy + half, cx - half : cx + half], cv2.COLOR_BGR2GRAY)
        crop = cv2.resize(grey, (64, 64)).astype(np.float32).ravel()
        crops.append((crop - crop.mean()) / crop.std())
    for i in range(len(crops)):
        for j in range(i + 1, len(crops)):
            assert float(crops[i] @ crops[j]) / crops[i].size < 0.9, (ids[i], ids[j])


def test_portraits_are_aligned_and_cut_out(portraits):
    for p in portraits:
        top, chin = p.face.landmarks[FOREHEAD_TOP], p.face.landmarks[CHIN]
        assert abs(top[0] - chin[0]) < 0.15 * p.face.height  # upright
        assert p.face.height == pytest.approx(170, rel=0.1)
        assert p.alpha[int((top[1] + chin[1]) / 2), int(top[0])] > 0.95  # the face is kept
        assert p.alpha[2, 2] < 0.05 and p.alpha[2, -3] < 0.05  # the photo's corners are not


def test_missing_packages_name_what_to_install(monkeypatch):
    monkeypatch.setattr(
        face_sources, "PACKAGED_PHOTOS", (PackagedPhoto("no_such_pkg_xyz", "a.jpg", "no-such-pkg", "photo"),)
    )
    with pytest.raises(FaceSourceError, match=r"no-such-pkg.*--faces"):
        find_face_photos()


def test_user_frames_from_real_videos(tmp_path, shared_media):
    for clip in ("fantasy_end0.1.mp4", "talkvid_tys_gt.mp4", "latentsync_demo3_video.mp4"):
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-ss", "1", "-i", str(shared_media / clip), "-frames:v", "1",
             str(tmp_path / f"{Path(clip).stem}.png")],
            check=True, timeout=60,
        )
    portraits = load_portraits([tmp_path])
    assert len(portraits) == 3
    assert all(p.source.startswith("user:") for p in portraits)


def test_too_few_faces_is_a_clear_error(tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    with pytest.raises(NotEnoughFacesError, match="--faces"):
        load_portraits([blank])
    with pytest.raises(FaceSourceError, match="does not exist"):
        load_portraits([tmp_path / "missing"])
