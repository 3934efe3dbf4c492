#!/usr/bin/env bash
# The README's first command: installs what carbonclock needs, builds it, and measures a short
# bundled workload with the embedded defaults (no GPU, grid data or network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/carbonclock run -- build/carbonclock-demo-workload "${1:-5}"
