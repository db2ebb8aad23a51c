"""Repack a Ray wheel without what an embedded, Python-only local Ray never loads.

The lent GPU machine has no Ray and no registry, and a call carries at most 64 MiB: Ray 2.60's
cp312 manylinux wheel is 79 MB, 32 MB of it the Java workers' jar. Dropped (``DROP``): the jars,
the libraries built on Ray core (RLlib, Tune, Train, Serve, Ray LLM, Ray Data, AIR) and the
dashboard's web client (its JavaScript and source maps; the dashboard is never started,
``start_ray`` passes ``include_dashboard=False``). Kept: the raylet, the GCS, ``_raylet.so``, the
dashboard and runtime-env agents the raylet starts, and everything else under ``ray/``. The
wheel keeps its name, and its RECORD lists only what is left, so pip installs it as usual.

``python benchmarks/slim_ray_wheel.py ray-2.60.0-cp312-cp312-manylinux2014_x86_64.whl --out .whl``
"""

import argparse
import sys
import zipfile
from pathlib import Path

DROP = (
    "ray/jars/",
    "ray/rllib/",
    "ray/tune/",
    "ray/train/",
    "ray/serve/",
    "ray/llm/",
    "ray/data/",
    "ray/air/",
    "ray/dashboard/client/",
)


def dropped(name: str, drop: tuple[str, ...] = DROP) -> bool:
    return name.startswith(drop) or name.endswith(".js.map")


def slim(source: Path, out_dir: Path, drop: tuple[str, ...] = DROP) -> Path:
    """Write ``out_dir/<source's name>`` without the dropped paths; returns its path."""
    target = out_dir / source.name
    if target.resolve() == source.resolve():
        raise ValueError("the slimmed wheel would overwrite its source: give another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            if dropped(info.filename, drop):
                continue
            data = zin.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(line for line in lines if not dropped(line.split(",", 1)[0], drop)).encode()
            info.compress_type = zipfile.ZIP_DEFLATED  # the ZipInfo keeps the mode bits (raylet, gcs_server)
            zout.writestr(info, data, compresslevel=9)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the slimmed wheel (same file name)")
    args = parser.parse_args(argv)
    target = slim(args.wheel, args.out)
    print(f"{target}: {args.wheel.stat().st_size / 1e6:.1f} MB -> {target.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
