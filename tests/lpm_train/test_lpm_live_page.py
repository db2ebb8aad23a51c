"""``lpm-train live``: the page in headless Chromium, its fake microphone fed from a wav (silence,
then a real person talking), frames arriving and the state following who talks; the file mode;
and requests the server refuses."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lpm_media_shards import shared_media_dir
from lpm_random_student import save_random_student

from tests.browser_pages import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  "--autoplay-policy=no-user-gesture-required"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def live_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("live")
    media = shared_media_dir()
    files = {"student": save_random_student(root / "student.pt"), "reply": root / "reply.wav",
             "voice": root / "voice.wav", "mic": root / "mic.wav"}
    ffmpeg("-i", str(media / "infinitetalk_ref_video.mp4"), "-t", "4", "-ac", "1", "-ar", "16000", str(files["reply"]))
    # A stretch where the second person talks without a long pause (from 1.76 s)
    ffmpeg("-ss", "1.76", "-i", str(media / "latentsync_demo3_video.mp4"), "-t", "4", "-ac", "1", "-ar", "16000",
           str(files["voice"]))
    # The microphone: 3 s of silence, then the person talking (Chromium loops the file)
    ffmpeg("-f", "lavfi", "-t", "3", "-i", "anullsrc=r=16000:cl=mono", "-i", str(files["voice"]),
           "-filter_complex", "[0][1]concat=n=2:v=0:a=1", "-ar", "16000", "-ac", "1", str(files["mic"]))
    return files


@contextmanager
def live_server(student: Path, reply: Path) -> Iterator[str]:
    command = [sys.executable, "-m", "lpm_train.cli", "live", "--set", f"stream.checkpoint={student}",
               "--set", "live.port=0", "--set", f"live.reply={reply}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        deadline, lines = time.monotonic() + 120, []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("live page: "):
                yield line.split()[2]
                break
            assert process.poll() is None, "".join(lines)
        else:
            raise AssertionError("the live server did not start: " + "".join(lines))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.slow
def test_the_live_page_shows_frames_and_follows_who_talks(live_files: dict[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is installed by bootstrap.sh"
    flags = [*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={live_files['mic']}"]
    with live_server(live_files["student"], live_files["reply"]) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        page.click("#start")
        wait_for(page, "() => Number(document.body.dataset.frames) > 10")
        wait_for(page, "() => (document.body.dataset.statesSeen || '').includes('idle')")  # the silence
        wait_for(page, "() => (document.body.dataset.statesSeen || '').includes('listening')")  # then the voice
        page.screenshot(path=str(tmp_path / "live-listening.png"))
        page.click("#reply")
        wait_for(page, "() => (document.body.dataset.statesSeen || '').includes('speaking')")
        page.screenshot(path=str(tmp_path / "live-speaking.png"))
        rtf = page.evaluate("() => document.getElementById('rtf').textContent")
        error = page.evaluate("() => document.getElementById('error').textContent")
        image = page.evaluate("() => document.getElementById('frame').src")
        browser.close()
    assert error == ""
    assert rtf.endswith("×") and float(rtf[:-1]) > 0
    assert image.startswith("data:image/jpeg;base64,")
    assert (tmp_path / "live-speaking.png").stat().st_size > 10_000
    print(f"screenshots: {tmp_path}")


def test_the_live_server_refuses_other_hosts_big_and_broken_pieces(live_files: dict[str, Path]) -> None:
    with live_server(live_files["student"], live_files["reply"]) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))

        def post(path: str, body: bytes, host: str = "127.0.0.1") -> tuple[int, dict]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("POST", path, body=body, headers={"Host": host})
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read())

        assert post("/api/push", b"\0" * 1600, host="evil.example")[0] == 421
        assert post("/api/push", b"\0" * 1601)[0] == 400
        status, answer = post("/api/push", b"\0" * (4 * 16_000 * 10 + 4))
        assert status == 413 and "at most" in answer["error"]
        status, answer = post("/api/push", b"\0" * (4 * 16_000))  # a second of silence: frames back
        assert status == 200 and len(answer["frames"]) > 0 and set(answer["states"]) == {"idle"}


def test_file_mode_writes_the_stream_as_it_goes(live_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "live.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "lpm_train.cli", "live", "--json", "--set", f"stream.checkpoint={live_files['student']}",
         "--set", f"live.own={live_files['reply']}", "--set", f"live.partner={live_files['mic']}",
         "--set", f"live.out={out}"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # 7 s of audio (the mic file's length): the reply speaks the first 4 s, the partner talks from 3 s
    assert summary["frames"] == 176 and out.is_file()
    assert summary["state_frames"]["speaking"] >= 90 and summary["state_frames"]["listening"] >= 60
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                              str(out)], capture_output=True, text=True).stdout.split()
    assert sorted(streams) == ["audio", "video"]
