"""The audit gallery opened in headless Chromium: every item renders with its image loaded."""

import re
import shutil
import subprocess
import sys

import pytest

from curation.manifests.duckdb_views import open_catalog
from curation.store.run_store import RunStore

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def run_dir(shared_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    inputs = root / "in"
    inputs.mkdir()
    for name in ("talkvid_tys_gt.mp4", "fantasy_end0.1.mp4", "panda_1IK5fEEVQdY.102.mp4"):
        (inputs / name).symlink_to(shared_media / name)
    out = root / "run"
    result = subprocess.run([sys.executable, "-m", "apps.cli.main", "run", "--input", str(inputs), "--out",
                             str(out), "--workflow", "smoke", "--executor", "local"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return out


@pytest.mark.slow
def test_gallery_renders_every_item_with_its_image_in_chromium(run_dir, tmp_path):
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is installed by bootstrap.sh"
    page = tmp_path / "audit.html"
    audit = subprocess.run([sys.executable, "-m", "apps.cli.main", "audit", str(run_dir), "--html", str(page),
                            "--per-reason", "2"], capture_output=True, text=True, timeout=300)
    assert audit.returncode == 0, audit.stderr[-2000:]
    with open_catalog(RunStore(str(run_dir))) as con:
        expected_kept = con.execute("SELECT sum(n) FROM (SELECT least(count(*), 2) AS n FROM segments "
                                    "WHERE key IS NOT NULL GROUP BY state)").fetchone()[0] or 0
        expected_rejected = con.execute("SELECT sum(n) FROM (SELECT least(count(*), 2) AS n FROM rejections "
                                        "GROUP BY reason)").fetchone()[0] or 0
    assert expected_kept > 0 and expected_rejected > 0, "the run has kept and rejected items"
    profile = tmp_path / "profile"
    dom = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    items = int(re.search(r'data-items="(\d+)"', dom).group(1))
    loaded = int(re.search(r'data-images-loaded="(\d+)"', dom).group(1))
    assert items == expected_kept + expected_rejected
    assert loaded == items, "every item's image decoded"
    videos = int(re.search(r'data-videos="(\d+)"', dom).group(1))
    assert videos >= expected_kept, "every kept sample plays, with its sound"
    assert dom.count("data:video/mp4;base64,") == videos
    screenshot = tmp_path / "audit.png"
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
                    "--window-size=1300,1000", page.as_uri()], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 20_000, "a screenshot of a page with pictures"


@pytest.mark.slow
def test_gallery_clips_play_with_their_sound_in_chromium(run_dir, tmp_path):
    import time

    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "audit.html"
    audit = subprocess.run([sys.executable, "-m", "apps.cli.main", "audit", str(run_dir), "--html",
                            str(page_file), "--per-reason", "1"], capture_output=True, text=True, timeout=300)
    assert audit.returncode == 0, audit.stderr[-2000:]
    flags = [f for f in CHROMIUM_FLAGS if f != "--headless"] + ["--autoplay-policy=no-user-gesture-required"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=flags)
        page = browser.new_page()
        page.goto(page_file.as_uri())
        kept = "document.querySelector('figure.item[data-group^=\"kept\"] video')"
        assert page.evaluate(f"() => {kept}.play().then(() => 'playing')") == "playing"
        time.sleep(1.5)
        played = page.evaluate(f"() => [{kept}.currentTime, {kept}.webkitAudioDecodedByteCount]")
        browser.close()
    assert played[0] > 0.5, "the clip's clock advances"
    assert played[1] > 0, "its driving audio is decoded"
