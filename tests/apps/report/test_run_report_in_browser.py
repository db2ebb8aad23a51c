"""The run report opened in headless Chromium: every plot decodes, and every number on the page
is what ``lpm-curate query`` gives over the same run (with the test's own SQL, not the page's).
"""

import json
import re
import shutil
import subprocess

import pytest

from apps.report.run_plots import PLOTS
from tests.curation.pipeline_runs import run_cli

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# figure on the page -> the test's own query and how to read its one value
EXPECTED = {
    "inputs": "SELECT count(*) AS v FROM videos",
    "kept": "SELECT count(*) FILTER (WHERE state = 'kept') AS v FROM videos",
    "rejected": "SELECT count(*) FILTER (WHERE state = 'rejected') AS v FROM videos",
    "failed": "SELECT count(*) FILTER (WHERE state = 'failed') AS v FROM videos",
    "hours_in": "SELECT sum(duration_s) / 3600 AS v FROM videos WHERE duplicate_of IS NULL",
    "hours_out": "SELECT sum(t_end - t_start) / 3600 AS v FROM segments",
    "segments": "SELECT count(*) AS v FROM segments",
    "rejection_rows": "SELECT count(*) AS v FROM rejections",
    "identities": "SELECT count(DISTINCT identity_id) AS v FROM identities",
}


@pytest.fixture(scope="module")
def run_dir(smoke_run):
    return smoke_run.out


def _query(out, sql: str) -> float:
    ran = run_cli("query", str(out), sql, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)[0]["v"]


@pytest.mark.slow
def test_report_renders_every_plot_and_its_numbers_equal_the_queries(run_dir, tmp_path):
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is installed by bootstrap.sh"
    page = tmp_path / "report.html"
    made = run_cli("report", str(run_dir), "--html", str(page))
    assert made.returncode == 0, made.stderr
    sources = re.findall(r"(?:src|href)=['\"]([^'\"]{0,30})", page.read_text())
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources), "embedded images only"

    profile = tmp_path / "profile"
    dom = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    plots = int(re.search(r'data-plots="(\d+)"', dom).group(1))
    rendered = int(re.search(r'data-plots-rendered="(\d+)"', dom).group(1))
    assert plots == len(PLOTS) == 6 and rendered == plots, (plots, rendered)
    assert re.findall(r"data-plot=\"(\w+)\"", dom) == [name for name, _make in PLOTS]

    shown = dict(re.findall(r"data-figure=\"(\w+)\">([^<]*)<", dom))
    assert set(shown) == set(EXPECTED)
    for name, sql in EXPECTED.items():
        expected = _query(run_dir, sql)
        assert float(shown[name]) == pytest.approx(float(expected), abs=5e-5), (name, shown[name], expected)
    assert (shown["inputs"], shown["kept"], shown["rejected"]) == ("5", "3", "2")

    screenshot = tmp_path / "report.png"
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
                    "--window-size=1400,1900", page.as_uri()], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 50_000, "a screenshot of a page with plots"
    print(f"screenshot: {screenshot}")


@pytest.mark.slow
def test_status_links_to_the_report(run_dir, tmp_path):
    page = tmp_path / "elsewhere" / "report.html"
    assert run_cli("report", str(run_dir), "--html", str(page)).returncode == 0
    status = run_cli("status", str(run_dir))
    assert f"report: {page.resolve().as_uri()}" in status.stdout
    assert json.loads(run_cli("status", str(run_dir), "--json").stdout)["report"] == str(page.resolve())
