#!/usr/bin/env bash
# The curation actor pools on a GPU machine, in one short run (benchmarks/gpu_pool_check.py): the
# project's RayExecutor on an embedded local Ray, a CPU pool then a pool of four 0.25-GPU actors.
# The lent machine has Python, torch (CUDA) and numpy but no Ray and no registry: Ray, slimmed to
# fit a call (benchmarks/slim_ray_wheel.py), and its missing dependencies come as wheels in .whl/
# (WHEELS names another folder), installed into /tmp/site. Arguments go to the check.
# Writes gpu_pool.json and gpu_pool.log to OUT (default runs/gpu_pool_check), and the Ray
# session's error logs when the check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu_pool_check}
wheels=${WHEELS:-.whl}
mkdir -p "$out"
if compgen -G "$wheels/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$wheels"/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
python3 -c "import sys, torch, ray; print('python', sys.version.split()[0], 'torch', torch.__version__, \
'ray', ray.__version__, 'cuda', torch.cuda.is_available())" || exit 1
timeout 300 python3 benchmarks/gpu_pool_check.py --out "$out/gpu_pool.json" "$@" 2>&1 | tee "$out/gpu_pool.log"
status=$?
if [ "$status" -ne 0 ] && [ -d /tmp/ray/session_latest/logs ]; then
  mkdir -p "$out/ray_logs"
  for log in /tmp/ray/session_latest/logs/{raylet.out,raylet.err,gcs_server.err,dashboard_agent.log} \
             /tmp/ray/session_latest/logs/worker-*.err; do
    [ -s "$log" ] && tail -n 80 "$log" > "$out/ray_logs/$(basename "$log")"
  done
fi
exit "$status"
