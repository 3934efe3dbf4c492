# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: configures a clang build directory.
#
#   configure_clang DIR address   ASan + UBSan + libFuzzer coverage (CARBONCLOCK_FUZZ=ON): the
#                                 test suite and the fuzz harnesses share one build, build-asan/
#   configure_clang DIR thread    TSan
#
# -O1 with line tables only: sanitizer reports keep file:line, and the build is about a third
# faster than with full debug information.

configure_clang() {
  local dir=$1 mode=$2
  local tool
  for tool in clang clang++; do
    command -v "$tool" >/dev/null || {
      echo "$0: $tool not found (scripts/setup.sh installs clang)" >&2
      exit 2
    }
  done
  local options=(-DCARBONCLOCK_BUILD_BENCH=OFF -DCARBONCLOCK_WERROR=ON)
  case $mode in
    address) options+=(-DCARBONCLOCK_FUZZ=ON) ;;
    thread) options+=(-DCARBONCLOCK_SANITIZE=thread) ;;
  esac
  if command -v ccache >/dev/null; then
    options+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" "${options[@]}" >/dev/null
}
