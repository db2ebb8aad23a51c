"""Sweep the shot detector's threshold over real clips and a labelled synthetic corpus.

``python -m benchmarks.shot_sweep --media ../shared/media --synth CORPUS`` prints, per
threshold: cuts found in all real clips and in the ``talking_head`` clips (single-shot footage,
so every cut there is a false one), and boundary F1 on the synthetic corpus's labelled cuts.
"""

import argparse
import csv
import json
from pathlib import Path

import cv2
import numpy as np

from annotators.shots.shot_detector import StreamingShotDetector
from apps.bench.truth_matching import boundary_matches, truth_boundaries
from apps.synth.truth import load_truth
from curation.media.frame_source import AnalysisGeometry, decode_frames
from curation.media.probe import probe_media

FPS = 25.0
THUMB = 128  # the short side the visual analysis stage feeds the detector


def _thumbnails(path: Path) -> list[np.ndarray]:
    info = probe_media(path)
    geometry = AnalysisGeometry.for_source(info.width, info.height, THUMB)
    return [cv2.cvtColor(f.rgb, cv2.COLOR_RGB2BGR) for f in decode_frames(str(path), geometry, FPS, 600)]


def _cuts(frames: list[np.ndarray], threshold: float, min_gap_s: float) -> list[float]:
    detector = StreamingShotDetector("content", threshold, max(1, round(min_gap_s * FPS)), FPS)
    for index, frame in enumerate(frames):
        detector.feed(index, frame)
    return [shot.first_frame / FPS for shot in detector.shots()[1:]]


def sweep(media: Path, synth: Path | None, thresholds: list[float], min_gap_s: float = 0.5) -> list[dict]:
    rows = list(csv.DictReader((media / "MANIFEST.csv").open()))
    results = {t: {"threshold": t, "real_cuts": 0, "talking_head_cuts": 0, "tp": 0, "predicted": 0, "truth": 0}
               for t in thresholds}
    for row in rows:
        frames = _thumbnails(media / row["file"])
        for t in thresholds:
            cuts = _cuts(frames, t, min_gap_s)
            results[t]["real_cuts"] += len(cuts)
            if row["label"] == "talking_head":
                results[t]["talking_head_cuts"] += len(cuts)
    for truth_path in sorted((synth / "truth").glob("*.json")) if synth else []:
        truth = load_truth(truth_path)
        frames = _thumbnails(synth / "videos" / f"{truth_path.stem}.mp4")
        for t in thresholds:
            cuts = _cuts(frames, t, min_gap_s)
            results[t]["tp"] += boundary_matches(cuts, truth_boundaries(truth), 2 / FPS)
            results[t]["predicted"] += len(cuts)
            results[t]["truth"] += len(truth_boundaries(truth))
    out = []
    for r in results.values():
        precision = r["tp"] / r["predicted"] if r["predicted"] else 1.0
        recall = r["tp"] / r["truth"] if r["truth"] else 1.0
        r["synthetic_f1"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(r)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--media", type=Path, required=True, help="folder of real clips with MANIFEST.csv")
    parser.add_argument("--synth", type=Path, default=None, help="a `lpm-curate synth` corpus folder")
    parser.add_argument("--thresholds", default="15,21,27,35,45")
    args = parser.parse_args(argv)
    for r in sweep(args.media, args.synth, [float(t) for t in args.thresholds.split(",")]):
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
