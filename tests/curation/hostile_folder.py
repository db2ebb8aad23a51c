"""The hostile-input matrix the ingest-facing tests share: one folder of forged files.

The individual forgers live in ``hostile_media``; this is the set every matrix test starts from.
"""

from pathlib import Path

import hostile_media as hm


def build_hostile_folder(folder: Path, outside: Path, work: Path) -> Path:
    """The hostile matrix every ingest-facing test shares, written into ``folder``.

    Files that reference others (concat script, playlists) point at a real video and a tripwire
    path in ``outside``; ``work`` holds the clean sources. Returns the clean base clip.
    """
    base = hm.av_clip(work / "base.mp4")
    (folder / "empty.mp4").write_bytes(b"")
    hm.truncated_mid_mdat(base, folder / "truncated.mp4")
    hm.without_moov(base, folder / "no_moov.mp4")
    hm.random_bytes(folder / "random.mp4")
    hm.jpeg_image(folder / "image.mp4")
    (folder / "notes.mp4").write_text("shopping list: milk, eggs, a video camera\n" * 20)
    hm.audio_only(folder / "audio_only.mp4")
    hm.video_only(folder / "video_only.mp4")
    hm.no_streams(folder / "no_tracks.mp4")
    hm.zero_duration(folder / "zero_duration.mp4")
    hm.one_frame(folder / "one_frame.mp4")
    hm.variable_frame_rate(folder / "vfr.mp4")
    hm.rotated_clockwise_90(hm.marker_clip(work / "marker.mp4"), folder / "rotated.mp4")
    hm.huge_resolution(base, folder / "huge.mp4")
    hm.symlink_loop(folder, "loop.mp4")
    secret = hm.av_clip(outside / "secret.mp4", seconds=3)
    tripwire = outside / "tripwire.mp4"
    hm.concat_script(folder / "concat.mp4", tripwire, secret)
    hm.hls_playlist(folder / "playlist.mp4", tripwire, secret)
    return base
