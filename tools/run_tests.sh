#!/usr/bin/env bash
# Builds glyph.cpp and runs every test: the GoogleTest suites through ctest,
# then the Python integration tests that drive a running server.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${GLYPH_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$(nproc)"

(cd "$build_dir" && ctest --output-on-failure -j "$(nproc)")

GLYPH_BUILD_DIR="$PWD/$build_dir" python3 -m pytest -q tests/integration
