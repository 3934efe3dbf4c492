#!/usr/bin/env bash
# Builds and installs the Python package (python/) into a virtual environment with Debian's
# packages only (offline: no index), then runs its tests against the fake NVML library and the
# numpy example; the PyTorch examples too when python3-torch is installed.
# Expects build/ configured and built by scripts/build.sh (the extension reuses its libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/build/python-venv
[[ -x $venv/bin/python ]] || /usr/bin/python3 -m venv --system-site-packages "$venv"
CARBONCLOCK_BUILD_DIR=$root/build "$venv/bin/pip" install --no-build-isolation --no-deps \
  --no-index --quiet --force-reinstall .

export CARBONCLOCK_FAKE_NVML=$root/build/tests/fake_nvml/libnvidia-ml.so.1
export CARBONCLOCK_CLI=$root/build/carbonclock
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests

# The examples, against the fake NVML library (two GPUs at 100 W and 50 W), in a scratch folder.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf 'gpu\npower 100\ngpu\npower 50\n' >"$scratch/gpus.txt"
export CARBONCLOCK_NVML_LIBRARY=$CARBONCLOCK_FAKE_NVML FAKE_NVML_SCRIPT=$scratch/gpus.txt
export CARBONCLOCK_DB=$scratch/carbonclock.db XDG_CONFIG_HOME=$scratch/config
(cd "$scratch" && "$venv/bin/python" "$root/examples/python/numpy_training.py" --zone DE \
  --epochs 2 --out numpy-run && "$CARBONCLOCK_CLI" report numpy-run >/dev/null)
if [[ -z ${CARBONCLOCK_SKIP_TORCH:-} ]] && "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  (cd "$scratch" && "$venv/bin/python" "$root/examples/python/torch_training.py" --zone DE \
    --epochs 2 --out torch-run)
  # --redirects 1 --tee 1: Debian 12's torch 1.13 on Python 3.11 fails with the default "0"
  # (its Std flag NONE is no longer iterated); rank stdout goes to the console and a log file.
  (cd "$scratch" && "$venv/bin/python" -m torch.distributed.run --standalone --nproc_per_node 2 \
    --redirects 1 --tee 1 \
    "$root/examples/python/torch_ddp.py" --zone DE --out ddp-runs)
  nodes=$(find "$scratch/ddp-runs" -name run.json | wc -l)
  tasks=$(find "$scratch/ddp-runs" -path '*/tasks/*.json' | wc -l)
  [[ $nodes == 1 && $tasks == 2 ]] || { echo "ddp: $nodes run.json, $tasks task files" >&2; exit 1; }
else
  echo "python_test: PyTorch examples skipped (python3-torch not installed or CARBONCLOCK_SKIP_TORCH set)"
fi
