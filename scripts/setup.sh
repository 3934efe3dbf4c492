#!/usr/bin/env bash
# Installs carbonclock's build and test dependencies from Debian's archive.
# Idempotent: packages already present are skipped, so running it twice is cheap.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libcli11-dev nlohmann-json3-dev libfmt-dev libcpp-httplib-dev
  libhowardhinnant-date-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libvterm-dev
  clang-format clang-tidy python3
  chromium iso-codes python3-jsonschema python3-yaml libpng-dev
  pybind11-dev python3-dev python3-venv python3-setuptools python3-wheel python3-pytest
  python3-numpy
  munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins  # tests/slurm: real daemons
  prometheus-cpp-dev prometheus
  clang libclang-rt-14-dev  # scripts/sanitize.sh, scripts/fuzz.sh (ASan, UBSan, TSan, libFuzzer)
)
# PyTorch (CPU) for the PyTorch examples of examples/python/, which scripts/python_test.sh runs
# when it is installed: about 340 packages, 260 MB to download, 1 GB installed; opt in with
# CARBONCLOCK_WITH_TORCH=1.
if [[ -n ${CARBONCLOCK_WITH_TORCH:-} ]]; then PACKAGES+=(python3-torch); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
