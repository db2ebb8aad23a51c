"""The review app on a real run: played in headless Chromium, verdicts by keyboard, concurrent
reviewers, and hostile requests and filters."""

import contextlib
import http.client
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser_pages import wait_for
from tests.curation.pipeline_runs import run_cli
from tests.curation.review_runs import copy_run, review_process, review_server

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
        # played with 2 s of context each side (as far as the source goes), the rejected span shaded
        tl = get_json(f"{base}/api/items/{rejected}/timeline")
        assert tl["window"][0] == pytest.approx(max(tl["span"][0] - 2.0, 0.0))
        assert tl["window"][1] - tl["marked"][1] == pytest.approx(2.0) and tl["marked"][0] == tl["span"][0]
        assert wait_for(page, "() => document.getElementById('timeline').dataset.marked")
        page.screenshot(path=str(screenshot.with_name("review-rejected.png")))

        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        marks = page.evaluate("() => [document.querySelectorAll('#list .mark.accept').length,"
                              " document.querySelectorAll('#list .mark.reject').length]")
        assert marks == [1, 1], "after a reload the page shows both verdicts"
        count = "() => document.getElementById('count').textContent"
        shown = "() => [...document.querySelectorAll('#list .entry')].map(e => Number(e.dataset.index))"
        assert page.evaluate(count) == f"reviewed 2 of {len(items)}"
        page.select_option("#filter-review", "unreviewed")
        assert page.evaluate(shown) == list(range(2, len(items)))
        assert page.evaluate(count) == f"reviewed 2 of {len(items)} (showing {len(items) - 2})"
        page.select_option("#filter-review", "reject:out_of_sync")
        assert page.evaluate(shown) == [1]
        page.select_option("#filter-review", "")
        stratum = f"rejected: {items[rejected]['stratum']}"
        page.select_option("#filter-stratum", stratum)
        assert page.evaluate(shown) == [i for i, it in enumerate(items) if f"{it['kind']}: {it['stratum']}" == stratum]
        page.select_option("#filter-stratum", "")
        page.evaluate("() => document.activeElement.blur()")  # keys go to the page, not the list box
        page.keyboard.press("u")  # undo the most recent verdict: the reject of item 1
        wait_for(page, "() => document.body.dataset.undone === '1' && document.body.dataset.itemIndex === '1'")
        assert page.evaluate(count) == f"reviewed 1 of {len(items)}"
        marks = page.evaluate("() => [document.querySelectorAll('#list .mark.accept').length,"
                              " document.querySelectorAll('#list .mark.reject').length]")
        assert marks == [1, 0]
        page.select_option("#filter-review", "unreviewed")
        wait_for(page, "() => [...document.images].every(i => i.complete)")
        page.screenshot(path=str(screenshot.with_name("review-filter-undo.png")))
        browser.close()

    assert screenshot.stat().st_size > 20_000
    print(f"screenshot: {screenshot}")
    rows = reviews(run_dir, "SELECT reviewer, time, item, item_kind, verdict, reason, note FROM reviews ORDER BY time")
    times = [row.pop("time") for row in rows]
    assert times == sorted(times) and all(t.startswith(time.strftime("%Y-%m-%d", time.gmtime())) for t in times)
    assert rows == [
        {"reviewer": "alice", "item": items[0]["item"], "item_kind": "kept", "verdict": "accept", "reason": None,
         "note": None},
        {"reviewer": "alice", "item": items[1]["item"], "item_kind": "kept", "verdict": "reject",
         "reason": "out_of_sync", "note": "lips late"},
        {"reviewer": "alice", "item": items[1]["item"], "item_kind": "kept", "verdict": "undo", "reason": None,
         "note": None},
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


def peak_memory_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def stream_post(base: str, total_bytes: int, chunk: int = 1 << 20) -> tuple[int | None, int]:
    """POST ``total_bytes`` of JSON-looking bytes, chunked and without a length; (status or None, bytes sent)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    sent = 0

    def body():
        nonlocal sent
        yield b'{"note": "'
        while sent < total_bytes:
            sent += chunk
            yield b"x" * chunk
    # OSError: the server answered and closed while we were still sending, as a bounded read does
    with contextlib.suppress(OSError):
        connection.request("POST", "/api/verdicts", body=body(), encode_chunked=True,
                           headers={"Content-Type": "application/json"})
    try:
        return connection.getresponse().status, sent
    except OSError:
        return None, sent


@pytest.mark.slow
def test_hostile_verdict_bodies_are_refused_with_bounded_memory_and_clean_errors(run_dir):
    with review_process(run_dir, "--per-stratum", "2") as (base, process):
        base = base.rstrip("/")
        item = get_json(f"{base}/api/items")["items"][0]["item"]
        good = {"verdict_id": uuid.uuid4().hex, "reviewer": "hostile", "item": item, "verdict": "accept"}
        refused = {
            "note": ({**good, "note": ["x"]}, "note must be a string or null, not a list"),
            "reason": ({**good, "verdict": "reject", "reason": 7}, "reason must be a string or null, not a number"),
            "verdict": ({**good, "verdict": ["accept"]}, "verdict must be a string, not a list"),
            "reviewer": ({**good, "reviewer": {"name": "x"}}, "reviewer must be a string, not an object"),
            "item": ({**good, "item": [item]}, "is not one of this session's items"),
            "verdict_id": ({**good, "verdict_id": 12}, "verdict_id must be a string, not a number"),
            "extra": ({**good, "time": "1970-01-01T00:00:00+00:00"}, "unknown field(s) ['time']"),
            "missing": ({k: v for k, v in good.items() if k != "verdict"}, "missing field 'verdict'"),
            "not an object": ([good], "a verdict is a JSON object"),
        }
        for name, (body, message) in refused.items():
            status, answer = post_verdict(base, body)
            assert status == 400 and message in answer["error"], (name, status, answer)
        # 15,000 nested brackets: a clean 400, not a RecursionError's 500
        status, body = raw_request(base, "POST", "/api/verdicts", {"Content-Type": "application/json"},
                                   b"[" * 15_000)  # 15 kB: under the size limit
        assert status == 400 and b"nested deeper than" in body, (status, body[:200])
        # a length over the limit is refused before a byte of the body is read
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.putrequest("POST", "/api/verdicts")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(500_000_000))
        connection.endheaders()
        assert connection.getresponse().status == 413
        # 500 MB streamed without a length: refused once past the limit, the server's peak memory unmoved
        before = peak_memory_kib(process.pid)
        status, sent = stream_post(base, 500 * (1 << 20))
        growth_mib = (peak_memory_kib(process.pid) - before) / 1024
        print(f"500 MB chunked POST: status {status}, {sent / (1 << 20):.0f} MiB sent, peak grew {growth_mib:.1f} MiB")
        assert status in (413, None) and growth_mib < 32, (status, growth_mib)
        assert sent < 100 * (1 << 20), "the server closed the connection instead of draining 500 MB"
        assert post_verdict(base, good)[0] == 201, "the server still records a good verdict afterwards"
    rows = reviews(run_dir, "SELECT item, verdict FROM reviews WHERE reviewer = 'hostile'")
    assert rows == [{"item": item, "verdict": "accept"}]


@pytest.mark.slow
def test_server_writes_no_verdict_through_a_linked_reviewer_folder(run_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (run_dir / "reviews").mkdir(exist_ok=True)
    (run_dir / "reviews" / "eve").symlink_to(outside, target_is_directory=True)
    try:
        with review_server(run_dir, "--per-stratum", "2") as base:
            item = get_json(f"{base}/api/items")["items"][0]["item"]
            status, answer = post_verdict(base, {"reviewer": "eve", "item": item, "verdict": "accept"})
            assert status == 409 and "reviews/eve is a symbolic link" in answer["error"], (status, answer)
            assert [v for v in get_json(f"{base}/api/verdicts") if v["reviewer"] == "eve"] == []
        assert list(outside.iterdir()) == []
    finally:
        (run_dir / "reviews" / "eve").unlink()


@pytest.mark.slow
def test_remote_review_needs_an_allowed_host_and_the_printed_token(run_dir):
    result = run_cli("review", str(run_dir), "--host", "0.0.0.0", "--port", "0", timeout=120)
    assert result.returncode == 2 and "--allow-host NAME" in result.stderr and "Traceback" not in result.stderr
    with review_process(run_dir, "--per-stratum", "2", "--host", "0.0.0.0",
                        "--allow-host", "review-box.test") as (url, _process):
        parsed = urllib.parse.urlsplit(url)
        token = urllib.parse.parse_qs(parsed.query)["token"][0]
        assert parsed.hostname == "review-box.test" and len(token) >= 32
        base, host = f"http://127.0.0.1:{parsed.port}", parsed.netloc  # reached by address, named as printed
        assert raw_request(base, "GET", "/api/items", {"Host": host})[0] == 403, "no token"
        assert raw_request(base, "GET", "/api/items?token=" + "x" * len(token), {"Host": host})[0] == 403
        connection = http.client.HTTPConnection("127.0.0.1", parsed.port, timeout=60)
        connection.request("GET", f"/?{parsed.query}", headers={"Host": host})  # the printed URL itself
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        assert cookie == f"lpm_review_token={token}" and "HttpOnly" in response.getheader("Set-Cookie")
        assert raw_request(base, "GET", "/api/items", {"Host": host, "Cookie": cookie})[0] == 200
        assert raw_request(base, "GET", "/api/items", {"Host": host, "X-Review-Token": token})[0] == 200
        assert raw_request(base, "GET", "/api/items", {"Host": f"evil.example:{parsed.port}", "Cookie": cookie})[0] \
            == 403, "the token does not make another host name acceptable"
        item = get_json_with(base, host, cookie)["items"][0]["item"]
        verdict = json.dumps({"reviewer": "remote", "item": item, "verdict": "accept"}).encode()
        assert raw_request(base, "POST", "/api/verdicts", {"Host": host, "Content-Type": "application/json"},
                           verdict)[0] == 403
        assert raw_request(base, "POST", "/api/verdicts", {"Host": host, "Content-Type": "application/json",
                                                           "Cookie": cookie}, verdict)[0] == 201


def get_json_with(base: str, host: str, cookie: str):
    status, body = raw_request(base, "GET", "/api/items", {"Host": host, "Cookie": cookie})
    assert status == 200
    return json.loads(body)
