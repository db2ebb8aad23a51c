"""The review app on a real run: played in headless Chromium, verdicts by keyboard, concurrent
reviewers, and hostile requests and filters."""

import http.client
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.curation.pipeline_runs import run_cli
from tests.curation.review_runs import copy_run, review_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def run_dir(talking_heads_run, tmp_path_factory):
    return copy_run(talking_heads_run, tmp_path_factory.mktemp("review"))


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.loads(response.read())


def post_verdict(base: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/verdicts", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, {"error": err.read().decode()}


def reviews(run_dir: Path, sql: str) -> list[dict]:
    result = run_cli("query", str(run_dir), sql, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for(page, script: str, timeout: float = 30.0):
    """Poll a page expression from Python: Playwright's own wait_for_function uses eval, which the
    app's Content-Security-Policy forbids (as it should)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


@pytest.mark.slow
def test_review_in_chromium_plays_with_sound_and_records_keyboard_verdicts(run_dir, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian's chromium is installed by bootstrap.sh"
    screenshot = tmp_path_factory.mktemp("screens") / "review.png"
    with review_server(run_dir, "--per-stratum", "3", "--reviewer", "nobody") as base, sync_playwright() as p:
        items = get_json(f"{base}/api/items")["items"]
        assert [i["kind"] for i in items].count("kept") >= 2 and "rejected" in {i["kind"] for i in items}
        # The clip served for the first item carries a real audio stream next to the video.
        clip = tmp_path_factory.mktemp("clip") / "clip.mp4"
        clip.write_bytes(urllib.request.urlopen(f"{base}/api/items/0/clip.mp4", timeout=120).read())
        streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                                  str(clip)], capture_output=True, text=True).stdout.split()
        assert sorted(streams) == ["audio", "video"]

        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/?reviewer=alice")
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "() => document.getElementById('video').readyState >= 2")
        assert page.evaluate("() => document.getElementById('video').play().then(() => 'playing')") == "playing"
        start = page.evaluate("() => document.getElementById('video').currentTime")
        time.sleep(1.5)
        state = page.evaluate("""() => { const v = document.getElementById('video');
            return {t: v.currentTime, audio: v.webkitAudioDecodedByteCount, video: v.webkitVideoDecodedByteCount,
                    cursor: Number(document.getElementById('timeline').dataset.cursorTime)}; }""")
        assert state["t"] > start + 0.5, f"the video's clock advances: {start} -> {state['t']}"
        assert state["audio"] > 0 and state["video"] > 0, "audio and video are both decoded"
        assert abs(state["cursor"] - state["t"]) < 0.5, "the timeline cursor follows playback"
        page.screenshot(path=str(screenshot))
        page.evaluate("() => document.getElementById('video').pause()")

        page.keyboard.press("a")  # accept item 0, move to item 1
        wait_for(page, "() => document.body.dataset.saved === '1' && document.body.dataset.itemIndex === '1'")
        wait_for(page, "() => [...document.images].every(i => i.complete)")
        page.screenshot(path=str(screenshot.with_name("review-next-item.png")))
        page.keyboard.press("n")
        page.keyboard.type("lips late")
        page.keyboard.press("Enter")
        page.keyboard.press("r")
        page.keyboard.press("2")  # the second reason of the closed list: out_of_sync
        wait_for(page, "() => document.body.dataset.saved === '2' && document.body.dataset.itemIndex === '2'")
        # a rejected item plays its source span
        rejected = next(i for i, item in enumerate(items) if item["kind"] == "rejected")
        for _ in range(rejected - 2):
            page.keyboard.press("j")
        wait_for(page, f"() => document.body.dataset.itemIndex === '{rejected}'")
        wait_for(page, "() => document.getElementById('video').readyState >= 1", timeout=90)
        assert page.evaluate("() => document.getElementById('video').duration") > 0.4

        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        marks = page.evaluate("() => [document.querySelectorAll('#list .mark.accept').length,"
                              " document.querySelectorAll('#list .mark.reject').length]")
        assert marks == [1, 1], "after a reload the page shows both verdicts"
        browser.close()

    assert screenshot.stat().st_size > 20_000
    print(f"screenshot: {screenshot}")
    rows = reviews(run_dir, "SELECT reviewer, time, item, item_kind, verdict, reason, note FROM reviews ORDER BY time")
    times = [row.pop("time") for row in rows]
    assert times[0] <= times[1] and all(t.startswith(time.strftime("%Y-%m-%d", time.gmtime())) for t in times)
    assert rows == [
        {"reviewer": "alice", "item": items[0]["item"], "item_kind": "kept", "verdict": "accept", "reason": None,
         "note": None},
        {"reviewer": "alice", "item": items[1]["item"], "item_kind": "kept", "verdict": "reject",
         "reason": "out_of_sync", "note": "lips late"},
    ]


@pytest.mark.slow
def test_two_reviewers_at_once_lose_and_duplicate_nothing(run_dir):
    with review_server(run_dir, "--per-stratum", "3") as first, review_server(run_dir, "--per-stratum", "3") as second:
        items = [i["item"] for i in get_json(f"{first}/api/items")["items"]]
        posts = [
            (server, {"verdict_id": uuid.uuid4().hex, "reviewer": reviewer, "item": items[n % len(items)],
                      "verdict": "accept" if n % 3 else "reject", "reason": None if n % 3 else "low_quality"})
            for server, reviewer in ((first, "carol"), (second, "dave")) for n in range(30)
        ]
        # every verdict posted twice (a retry after a lost answer), all at once on eight threads
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda sp: post_verdict(*sp), posts + posts))
    assert sorted(code for code, _ in answers) == [200] * 60 + [201] * 60, "each stored once, retries answered 200"
    rows = reviews(run_dir, "SELECT verdict_id, reviewer, item, verdict FROM reviews "
                            "WHERE reviewer IN ('carol', 'dave')")
    assert sorted(r["verdict_id"] for r in rows) == sorted(body["verdict_id"] for _, body in posts)
    by_id = {body["verdict_id"]: body for _, body in posts}
    assert all(by_id[r["verdict_id"]]["item"] == r["item"] and by_id[r["verdict_id"]]["verdict"] == r["verdict"]
               for r in rows)
    assert not [p for p in (run_dir / "reviews").rglob("*") if p.name.startswith(".tmp-")], "no temporary left"


def raw_request(base: str, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.putrequest(method, path, skip_host=bool(headers and "Host" in headers))  # the path as given
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.slow
def test_server_refuses_paths_outside_the_run_and_other_origins(run_dir):
    with review_server(run_dir, "--per-stratum", "2") as base:
        item = get_json(f"{base}/api/items")["items"][0]["item"]
        port = base.rsplit(":", 1)[1]
        for path in ("/api/items/../../../../etc/passwd", "/../../etc/passwd", "/api/items/0/ref/..%2f..%2fetc.jpg",
                     "/api/items/%2e%2e%2f%2e%2e%2fetc%2fpasswd/clip.mp4", "/api/items/999/clip.mp4",
                     "/review.js/../../run.json", "/run.json", "/manifest/segments.parquet"):
            status, body = raw_request(base, "GET", path)
            assert status == 404, (path, status)
            assert b"root:" not in body and b"workflow" not in body
        assert raw_request(base, "GET", "/api/items", {"Origin": "http://evil.example"})[0] == 403
        assert raw_request(base, "GET", "/api/items/0/clip.mp4", {"Sec-Fetch-Site": "cross-site"})[0] == 403
        assert raw_request(base, "GET", "/api/items", {"Host": f"evil.example:{port}"})[0] == 403
        assert raw_request(base, "GET", "/api/items", {"Origin": base})[0] == 200  # its own page
        verdict = {"verdict_id": uuid.uuid4().hex, "reviewer": "mallory", "item": item, "verdict": "accept"}
        form = json.dumps(verdict).encode()
        # a form on another site can only send text/plain or form types: refused, nothing stored
        assert raw_request(base, "POST", "/api/verdicts", {"Content-Type": "text/plain"}, form)[0] == 403
        assert post_verdict(base, verdict, {"Origin": "http://evil.example"})[0] == 403
        assert post_verdict(base, {**verdict, "reviewer": "../../etc"})[0] == 400
        assert post_verdict(base, {**verdict, "item": "../../run.json"})[0] == 400
        assert post_verdict(base, {**verdict, "verdict": "reject", "reason": "not_in_the_list"})[0] == 400
    assert reviews(run_dir, "SELECT * FROM reviews WHERE reviewer = 'mallory'") == []
    assert not (run_dir / "reviews" / "mallory").exists()


@pytest.mark.parametrize(("where", "message"), [
    ("1=1; COPY segments TO '/tmp/stolen.csv'", "not a valid SQL filter"),
    ("key IN (SELECT * FROM read_csv('/etc/passwd'))", "may not call table functions"),
    ("state = 'x') UNION SELECT * FROM segments --", "must be one boolean condition"),
    ("no_such_column > 1", "does not run on segments"),
])
@pytest.mark.slow
def test_review_refuses_a_where_that_is_not_a_filter(run_dir, where, message):
    result = run_cli("review", str(run_dir), "--where", where, "--port", "0", timeout=120)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not Path("/tmp/stolen.csv").exists()
