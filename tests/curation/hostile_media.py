"""Forge the hostile inputs the ingest tests feed to a run: broken, lying and dangerous files.

Every file is made here, in a temporary folder, from ffmpeg's synthetic sources or by editing the
bytes of a file ffmpeg wrote: truncations, a removed index, a rewritten H.264 SPS that claims
8192x8192, a patched display matrix. Nothing is copied from the shared media into the repository.
"""

import errno
import os
import random
import struct
import subprocess
import threading
from pathlib import Path

FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y")


def ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, timeout=120, stdin=subprocess.DEVNULL)


def av_clip(path: Path, seconds: float = 2.0, size: str = "160x120", rate: int = 25) -> Path:
    """A small H.264 + AAC mp4 with its index (moov) at the end, as ffmpeg writes by default."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate={rate}",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-profile:v",
        "baseline",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    )
    return path


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each top-level ISO BMFF box."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size < 8:
            break
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def truncated_mid_mdat(source: Path, path: Path) -> Path:
    """Index at the front (faststart), then cut half way through the media data."""
    faststart = path.with_suffix(".faststart.tmp")
    ffmpeg("-i", str(source), "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(faststart))
    data = faststart.read_bytes()
    faststart.unlink()
    kinds = {kind: (offset, size) for kind, offset, size in top_level_boxes(data)}
    assert kinds[b"moov"][0] < kinds[b"mdat"][0], "faststart should put moov before mdat"
    offset, size = kinds[b"mdat"]
    path.write_bytes(data[: offset + size // 2])
    return path


def without_moov(source: Path, path: Path) -> Path:
    """The file as a crashed recorder leaves it: ftyp and mdat, no moov (the index) at the end."""
    data = source.read_bytes()
    kinds = {kind: (offset, size) for kind, offset, size in top_level_boxes(data)}
    offset, _ = kinds[b"moov"]
    assert offset > kinds[b"mdat"][0], "the default mp4 layout puts moov last"
    path.write_bytes(data[:offset])
    return path


def random_bytes(path: Path, n: int = 200_000, seed: int = 7) -> Path:
    rng = random.Random(seed)
    path.write_bytes(bytes(rng.getrandbits(8) for _ in range(n)))
    return path


def jpeg_image(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", str(path))
    return path


def audio_only(path: Path) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "-c:a", "aac", "-f", "mp4", str(path)
    )
    return path


def video_only(path: Path, seconds: float = 2.0) -> Path:
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def no_streams(path: Path) -> Path:
    """A well-formed mp4 of zero duration: asking ffmpeg for zero frames leaves no tracks at all."""
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "0", "-c:v", "libx264", "-f", "mp4", str(path)
    )
    return path


def one_frame(path: Path, rate: int = 1) -> Path:
    """A single frame; at 1 frame/s it lasts one second, so only the frame count can reject it."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size=160x120:rate={rate}",
        "-frames:v",
        "1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "mp4",
        str(path),
    )
    return path


def zero_duration(path: Path) -> Path:
    """A video track holding one frame, with every duration in the file set to zero.

    The movie, track and media headers, the frame's own duration (stts) and the edit list all
    say 0, as a muxer that died before it could finish them leaves them.
    """
    one = path.with_suffix(".one.tmp")
    one_frame(one, rate=25)
    data = bytearray(one.read_bytes())
    one.unlink()

    def payload(tag: bytes) -> int:
        at = data.find(tag)
        assert at > 0 and data.find(tag, at + 4) < 0 and data[at + 4] == 0, f"one version-0 {tag!r}"
        return at + 4

    for tag, offset in ((b"mvhd", 16), (b"mdhd", 16), (b"tkhd", 20)):
        data[payload(tag) + offset : payload(tag) + offset + 4] = bytes(4)
    stts = payload(b"stts")
    data[stts + 12 : stts + 16] = bytes(4)  # the first entry's sample delta
    if b"elst" in data:
        elst = payload(b"elst")
        data[elst + 8 : elst + 12] = bytes(4)  # the first edit's segment duration
    path.write_bytes(bytes(data))
    return path


def variable_frame_rate(path: Path) -> Path:
    """One second at 25 frames/s, then frames 0.1 s apart: timestamps kept as they are (vfr)."""
    ffmpeg(
        "-f",
        "lavfi",
        "-t",
        "3",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-vf",
        "setpts='if(lt(N,25),N*0.04,1+(N-25)*0.1)/TB'",
        "-t",
        "2",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def marker_clip(path: Path, size: str = "160x120") -> Path:
    """Black frames with a white block in the top-left corner, to see where a player puts it."""
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"color=black:size={size}:rate=25,drawbox=x=0:y=0:w=40:h=30:color=white:t=fill",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(path),
    )
    return path


def rotated_clockwise_90(source: Path, path: Path) -> Path:
    """Write a 90-degree clockwise display matrix into the video track header (tkhd), as phones do.

    ISO BMFF maps (x, y) to (a*x + c*y + tx, b*x + d*y + ty); a clockwise quarter turn of a W x H
    picture is x' = H - y, y' = x: a=0, b=1, c=-1, d=0, tx=H.
    """
    data = bytearray(source.read_bytes())
    tkhd = data.find(b"tkhd")
    assert tkhd > 0 and data.find(b"tkhd", tkhd + 4) < 0, "expected a single (video) track"
    version = data[tkhd + 4]
    matrix = tkhd + 4 + (4 + 8 + 8 + 4 + 4 + 8 + 8 + 8 if version == 1 else 4 + 4 + 4 + 4 + 4 + 4 + 8 + 8)
    height = struct.unpack(">I", data[matrix + 40 : matrix + 44])[0] >> 16
    values = (0, 1 << 16, 0, -(1 << 16), 0, 0, height << 16, 0, 1 << 30)
    data[matrix : matrix + 36] = struct.pack(">9i", *values)
    path.write_bytes(bytes(data))
    return path


def huge_resolution(source: Path, path: Path, width_mbs: int = 512, height_mbs: int = 512) -> Path:
    """Rewrite the SPS in the mp4's avcC so the stream claims 16*width_mbs x 16*height_mbs pixels.

    The new SPS drops the VUI and cropping and is zero-padded to the old length, so no box size
    changes. ``source`` must be H.264 baseline (no scaling lists, frame_mbs_only).
    """
    data = bytearray(source.read_bytes())
    avcc = data.find(b"avcC") + 4
    assert data[avcc + 5] & 0x1F == 1, "expected one SPS"
    length = struct.unpack(">H", data[avcc + 6 : avcc + 8])[0]
    start = avcc + 8
    data[start : start + length] = _resized_sps(bytes(data[start : start + length]), width_mbs, height_mbs)
    path.write_bytes(bytes(data))
    return path


def concat_script(path: Path, *referenced: Path) -> Path:
    path.write_text("ffconcat version 1.0\n" + "".join(f"file '{r}'\n" for r in referenced))
    return path


def hls_playlist(path: Path, *referenced: Path, disguise: bool = False) -> Path:
    """An HLS playlist; ``disguise`` appends binary junk so that it does not look like text."""
    entries = "".join(f"#EXTINF:10.0,\nfile:{r}\n" for r in referenced)
    text = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n{entries}#EXT-X-ENDLIST\n"
    rng = random.Random(3)
    junk = bytes(rng.getrandbits(8) for _ in range(400)) if disguise else b""
    path.write_bytes(text.encode() + junk)
    return path


def symlink_loop(folder: Path, name: str = "loop.mp4") -> Path:
    a, b = folder / name, folder / f"{Path(name).stem}-partner.mp4"
    a.symlink_to(b.name)
    b.symlink_to(a.name)
    return a


class Tripwire:
    """A named pipe that reports whether anything ever opened it for reading.

    Opening a FIFO for writing without blocking fails (ENXIO) while no reader has it open, so a
    thread that keeps trying learns the moment some process opens the file. Whoever opened it then
    reads end-of-file instead of hanging.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> "Tripwire":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as err:
                if err.errno != errno.ENXIO:
                    raise
                continue
            self.opened = True
            os.close(fd)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | ((self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits += [(value >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, value: int) -> None:
        value += 1
        self.u(value.bit_length() - 1, 0)
        self.u(value.bit_length(), value)

    def rbsp(self) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _resized_sps(nal: bytes, width_mbs: int, height_mbs: int) -> bytes:
    read, write = _Bits(_unescape(nal[1:])), _BitWriter()
    profile = read.u(8)
    assert profile in (66, 77), f"expected a baseline/main SPS, got profile_idc {profile}"
    write.u(8, profile)
    write.u(8, read.u(8))  # constraint flags
    write.u(8, read.u(8))  # level
    write.ue(read.ue())  # seq_parameter_set_id
    write.ue(read.ue())  # log2_max_frame_num_minus4
    poc_type = read.ue()
    assert poc_type in (0, 2), poc_type
    write.ue(poc_type)
    if poc_type == 0:
        write.ue(read.ue())
    write.ue(read.ue())  # max_num_ref_frames
    write.u(1, read.u(1))  # gaps_in_frame_num_allowed
    read.ue(), read.ue()
    write.ue(width_mbs - 1)
    write.ue(height_mbs - 1)
    assert read.u(1) == 1, "expected frame_mbs_only"
    write.u(1, 1)
    write.u(1, read.u(1))  # direct_8x8_inference
    write.u(1, 0)  # no cropping
    write.u(1, 0)  # no VUI
    new = nal[:1] + _escape(write.rbsp())
    assert len(new) <= len(nal), "the rewritten SPS must fit in the old one"
    return new + b"\x00" * (len(nal) - len(new))
