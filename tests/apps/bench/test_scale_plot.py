"""``bench scale --plot``: a PNG with both panels from a report's figures."""

from pathlib import Path

from PIL import Image

from apps.bench.scale_plot import write_scale_plot


def test_the_plot_is_a_png_of_the_report(tmp_path: Path) -> None:
    report = {"store": "s3", "latency_ms": 20, "per_n": {
        str(n): {"phase_seconds": {"identity": n / 50, "manifests": n / 80, "outcomes": 0.0},
                 "barrier_stages": ["identity"], "driver_peak_rss_mb": 350 + n / 100}
        for n in (1000, 5000, 10000)
    }}
    out = write_scale_plot(report, tmp_path / "figures" / "scale.png")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1210, 462)
        # two panels of lines drawn, not a blank canvas
        assert len(set(image.convert("RGB").getdata())) > 20
