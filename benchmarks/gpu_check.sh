#!/usr/bin/env bash
# The trainer's CUDA paths on a GPU machine, in one short run: the CUDA tests, then `lpm-train
# bench` at the gpu_small sizes in fp32, in bf16 autocast (the default on CUDA) and compiled.
# Needs python3 with torch (CUDA), numpy, psutil, pyyaml, fsspec and pytest; braceexpand is
# installed from WHEELS (a folder of wheels) when given, for a machine without a registry.
# Writes pytest.log and bench_{fp32,bf16,compile}.json to OUT (default runs/gpu_check).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu_check}
mkdir -p "$out"
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/gpu_check_site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/gpu_check_site
fi
export PYTHONPATH=$PWD:$PWD/tests/lpm_train${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.get_device_name())"
# --noconftest: tests/conftest.py builds curation runs (Ray, DuckDB, ffmpeg) these tests never use.
timeout 150 python3 -m pytest --noconftest -p no:cacheprovider -q -ra tests/lpm_train/test_lpm_cuda.py 2>&1 \
  | tee "$out/pytest.log"
bench() {  # name, time limit (s), then --set overrides
  local name=$1 limit=$2; shift 2
  timeout "$limit" python3 -m lpm_train.cli bench --config lpm_train/configs/gpu_small.yaml --json --log-level WARNING \
    "$@" > "$out/bench_$name.json" && python3 - "$out/bench_$name.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s, live = d["setup"], d["live"]
print(f"{s['precision']:>4} compile={s['compile']}: train {d['model_samples_per_s']:.1f} samples/s; "
      f"stream {d['stream_chunks_per_s']:.2f} chunks/s, first chunk {d['first_chunk_latency_s']:.3f} s, "
      f"kv x{d['kv_cache_speedup']:.1f} (max diff {d['kv_vs_recompute_max_abs_diff']:.2e}); live real-time "
      f"factor {live['realtime_factor']:.2f}, chunk {live['chunk_latency_s']:.3f} s; "
      f"peak GPU {d['cuda_peak_allocated_mb']:.0f} MB")
PY
}
bench fp32 90 --set train.precision=fp32
bench bf16 90
bench compile 150 --set train.compile=true
