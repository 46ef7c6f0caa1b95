#!/usr/bin/env bash
# Compare glyph's CPU serving speed with llama.cpp's, on this machine, with the same weights and
# the same thread count, and write the table to docs/benchmarks.md.
#
# One run:
#   1. downloads the llama-cpp-python source distribution from PyPI (it carries the whole llama.cpp
#      tree, its converter and gguf-py) and builds llama.cpp's CPU backend (GGML_NATIVE) once;
#   2. writes a random-weight Glyph with Glyph's widths but 4 layers (bench/make_dummy_glyph.py)
#      and converts it to GGUF BF16 with that llama.cpp's convert_hf_to_gguf.py, once;
#   3. builds glyph and bench/copy_bandwidth.cpp;
#   4. runs ROUNDS rounds. Each measures both engines one after the other: copy bandwidth, batch-1
#      decode, 512-token prefill, and output tokens/s of 1, 8 and 16 concurrent streams. Only one
#      engine is loaded at a time, and the order alternates between rounds;
#   5. prints the median and best of the rounds with glyph/llama.cpp ratios, and writes them with
#      the machine, the date and the exact commands to docs/benchmarks.md.
#
# Everything downloaded or built lives under bench/.work/ (git-ignored) and is reused by later runs.
#
# Usage: bench/cpu_vs_llama_cpp.sh
# Environment:
#   ROUNDS=3              rounds of measurements (figures are the median and best of them)
#   THREADS=2             threads for both engines (glyph uses one per core; see the NOTE below)
#   ENGINES="llama glyph" engines to measure; a missing one shows as n/a in the table
#   SKIP_GLYPH_BUILD=1    use the existing build/glyph
#   LLAMA_CPP_PYTHON_VERSION=0.3.36   llama-cpp-python release whose llama.cpp is measured
#   LLAMA_PORT=18080 GLYPH_PORT=18081 ports the servers bind on 127.0.0.1
#   BENCH_WORK=bench/.work            cache directory
#   BENCH_DOC=docs/benchmarks.md      page to write ("" writes none)

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$REPO/bench"
WORK=${BENCH_WORK:-$BENCH/.work}
DOC=${BENCH_DOC-$REPO/docs/benchmarks.md}

ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
ENGINES=${ENGINES:-llama glyph}
LLAMA_CPP_PYTHON_VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
LLAMA_PORT=${LLAMA_PORT:-18080}
GLYPH_PORT=${GLYPH_PORT:-18081}

LAYERS=4
DECODE_TOKENS=128
PREFILL_TOKENS=512
STREAM_COUNTS=(1 8 16)
STREAM_PROMPT_TOKENS=32
STREAM_OUTPUT_TOKENS=64
# KV cache of each server, in tokens: 16 streams of 32 + 64 tokens fit with room to spare, and so
# does the 512-token prefill. Both servers get the same budget.
KV_TOKENS=4096
SERVER_START_TIMEOUT_S=900

SDIST_DIR="$WORK/sdist"
LLAMA_SRC="$SDIST_DIR/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
LLAMA_BUILD="$WORK/llama-build-$LLAMA_CPP_PYTHON_VERSION"
MODEL_DIR="$WORK/glyph-${LAYERS}layer"
GGUF="$WORK/glyph-${LAYERS}layer-bf16.gguf"
GLYPH="$REPO/build/glyph"
COPY_BANDWIDTH="$WORK/copy_bandwidth"

RUN_ID=$(date +%Y%m%d-%H%M%S)
RUN_DIR="$WORK/runs/$RUN_ID"
RESULTS="$RUN_DIR/results.jsonl"
COMMANDS="$RUN_DIR/commands.txt"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Records a command line once in COMMANDS, with paths relative to the repository, for the docs page.
# The client's seed changes every round, so callers write it as --seed=SEED.
record_command() {
  local line
  line=$(printf '%q ' "$@")
  line=${line% }
  line=${line//$REPO\//}
  line=${line//$REPO/.}
  grep -qxF -- "$line" "$COMMANDS" 2>/dev/null || printf '%s\n' "$line" >>"$COMMANDS"
}

# Appends one measurement: engine, metric, round, value and the raw JSON it came from.
record_result() {
  local engine=$1 metric=$2 round=$3 value=$4 detail=$5
  jq -cn --arg engine "$engine" --arg metric "$metric" --argjson round "$round" \
    --argjson value "$value" --argjson detail "$detail" \
    '{engine: $engine, metric: $metric, round: $round, value: $value, detail: $detail}' >>"$RESULTS"
}

wants_engine() { [[ " $ENGINES " == *" $1 "* ]]; }

# --- 1. llama.cpp from PyPI's llama-cpp-python source distribution ------------------------------

fetch_llama_cpp() {
  local download=(pip download --no-binary :all: --no-deps
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$SDIST_DIR")
  local unpack=(tar -xzf "$SDIST_DIR/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz" -C "$SDIST_DIR")
  record_command "${download[@]}"
  record_command "${unpack[@]}"
  if [[ -f "$LLAMA_SRC/convert_hf_to_gguf.py" ]]; then return; fi
  log "downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's source distribution from PyPI"
  mkdir -p "$SDIST_DIR"
  "${download[@]}" >"$WORK/pip-download.log" 2>&1 || die "pip download failed; see $WORK/pip-download.log"
  "${unpack[@]}"
  [[ -f "$LLAMA_SRC/convert_hf_to_gguf.py" ]] ||
    die "the source distribution has no vendor/llama.cpp/convert_hf_to_gguf.py"
}

build_llama_cpp() {
  # The web UI is off: building it needs npm, and its prebuilt assets come from Hugging Face.
  local configure=(cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD" -DCMAKE_BUILD_TYPE=Release
    -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF)
  local build=(cmake --build "$LLAMA_BUILD" --target llama-bench llama-server -j2)
  record_command "${configure[@]}"
  record_command "${build[@]}"
  if [[ -x "$LLAMA_BUILD/bin/llama-bench" && -x "$LLAMA_BUILD/bin/llama-server" ]]; then return; fi
  log "building llama.cpp (llama-bench, llama-server) in $LLAMA_BUILD; this takes a while on 2 cores"
  "${configure[@]}" >"$WORK/llama-configure.log" 2>&1 ||
    die "configuring llama.cpp failed; see $WORK/llama-configure.log"
  "${build[@]}" >"$WORK/llama-build.log" 2>&1 || die "building llama.cpp failed; see $WORK/llama-build.log"
}

# --- 2. the model, in Hugging Face layout for glyph and as GGUF for llama.cpp -------------------

make_model() {
  local make=(python3 "$BENCH/make_dummy_glyph.py" "$MODEL_DIR" --layers "$LAYERS")
  record_command "${make[@]}"
  if [[ ! -f "$MODEL_DIR/model.safetensors" ]]; then
    log "writing the random-weight model to $MODEL_DIR"
    "${make[@]}" >&2
    rm -f "$GGUF"
  fi

  local convert=(python3 "$LLAMA_SRC/convert_hf_to_gguf.py" "$MODEL_DIR" --outtype bf16
    --outfile "$GGUF")
  record_command "${convert[@]}"
  if [[ ! -f "$GGUF" ]]; then
    log "converting $MODEL_DIR to $GGUF with llama.cpp's converter"
    "${convert[@]}" >"$WORK/convert.log" 2>&1 || { rm -f "$GGUF"; die "conversion failed; see $WORK/convert.log"; }
  fi
}

# --- 3. glyph and the bandwidth probe -----------------------------------------------------------

build_glyph() {
  local configure=(cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release)
  local build=(cmake --build "$REPO/build" --target glyph -j2)
  record_command "${configure[@]}"
  record_command "${build[@]}"
  if [[ -n "${SKIP_GLYPH_BUILD:-}" ]]; then
    [[ -x "$GLYPH" ]] || die "SKIP_GLYPH_BUILD is set but $GLYPH does not exist"
    return
  fi
  log "building glyph"
  { "${configure[@]}" && "${build[@]}"; } >"$RUN_DIR/glyph-build.log" 2>&1 ||
    die "building glyph failed; see $RUN_DIR/glyph-build.log"
}

build_copy_bandwidth() {
  local compile=(g++ -std=c++20 -O3 -march=native -pthread "$BENCH/copy_bandwidth.cpp" -o "$COPY_BANDWIDTH")
  record_command "${compile[@]}"
  "${compile[@]}"
}

# --- servers ------------------------------------------------------------------------------------

SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

# start_server PORT LOG COMMAND...: starts COMMAND in the background and waits for GET /health.
start_server() {
  local port=$1 server_log=$2
  shift 2
  if curl -s -o /dev/null "http://127.0.0.1:$port/health"; then
    die "something already listens on 127.0.0.1:$port; set LLAMA_PORT or GLYPH_PORT to a free port"
  fi
  record_command "$@"
  "$@" >"$server_log" 2>&1 &
  SERVER_PID=$!
  local waited=0
  until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      SERVER_PID=""
      die "the server exited during start-up; see $server_log"
    fi
    if ((waited >= SERVER_START_TIMEOUT_S)); then
      stop_server
      die "the server did not respond to /health within ${SERVER_START_TIMEOUT_S} s; see $server_log"
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

client() {
  local cmd=(python3 "$BENCH/serving_client.py" "$@")
  record_command "${cmd[@]/--seed=*/--seed=SEED}"
  "${cmd[@]}"
}

# --- 4. measurements ----------------------------------------------------------------------------

# Records the load average and the copy and read bandwidth under ENGINE's name, right before that
# engine's decode test: the load from other work drifts within minutes, so the decode bandwidth
# share compares two figures taken under the same load.
measure_copy_bandwidth() {
  local engine=$1 round=$2 output load
  load=$(cut -d' ' -f1 /proc/loadavg)
  record_result "$engine" loadavg1 "$round" "$load" "{}"
  local cmd=("$COPY_BANDWIDTH" --threads "$THREADS" --passes 20)
  record_command "${cmd[@]}"
  output=$("${cmd[@]}")
  record_result "$engine" copy_gbps "$round" "$(jq .copy_gbps <<<"$output")" "$output"
  record_result "$engine" read_gbps "$round" "$(jq .read_gbps <<<"$output")" "$output"
}

# llama_bench ROUND METRIC THREADS ARGS...: runs one llama-bench test and records its tokens/s.
llama_bench() {
  local round=$1 metric=$2 threads=$3
  shift 3
  local cmd=("$LLAMA_BUILD/bin/llama-bench" -m "$GGUF" -t "$threads" -r 1 -o json "$@")
  record_command "${cmd[@]}"
  local output
  output=$("${cmd[@]}" 2>>"$RUN_DIR/llama-bench.log") || die "llama-bench failed; see $RUN_DIR/llama-bench.log"
  record_result llama "$metric" "$round" "$(jq '.[0].avg_ts' <<<"$output")" "$(jq -c '.[0]' <<<"$output")"
}

stream_tests() {
  local engine=$1 round=$2 port=$3 count output
  for count in "${STREAM_COUNTS[@]}"; do
    output=$(client --url "http://127.0.0.1:$port" --seed="$((round * 1000 + count))" streams \
      --streams "$count" --prompt-tokens "$STREAM_PROMPT_TOKENS" --max-tokens "$STREAM_OUTPUT_TOKENS")
    record_result "$engine" "streams${count}_tps" "$round" "$(jq .output_tokens_per_second <<<"$output")" "$output"
  done
}

measure_llama() {
  local round=$1
  log "round $round: llama.cpp"
  measure_copy_bandwidth llama "$round"
  llama_bench "$round" decode_tps "$THREADS" -p 0 -n "$DECODE_TOKENS"
  llama_bench "$round" prefill_tps "$THREADS" -p "$PREFILL_TOKENS" -n 0
  # Context only, not compared: ggml's threads wait for each other at every op, so when other
  # processes take a core, 2 threads on 2 cores can decode slower than 1 thread.
  if ((THREADS > 1)); then
    llama_bench "$round" decode_1thread_tps 1 -p 0 -n "$DECODE_TOKENS"
  fi

  start_server "$LLAMA_PORT" "$RUN_DIR/llama-server-$round.log" \
    "$LLAMA_BUILD/bin/llama-server" -m "$GGUF" -t "$THREADS" -tb "$THREADS" -c "$KV_TOKENS" \
    -np 16 --cont-batching --host 127.0.0.1 --port "$LLAMA_PORT"
  stream_tests llama "$round" "$LLAMA_PORT"
  stop_server
}

measure_glyph() {
  local round=$1 output
  log "round $round: glyph"
  # NOTE: glyph serve has no thread-count flag; its pool starts one thread per core, which is
  # THREADS only on a THREADS-core machine. The summary records what the server logged.
  start_server "$GLYPH_PORT" "$RUN_DIR/glyph-serve-$round.log" \
    "$GLYPH" serve --model-path "$MODEL_DIR" --host 127.0.0.1 --port "$GLYPH_PORT" \
    --max-total-tokens "$KV_TOKENS" --disable-radix-cache
  measure_copy_bandwidth glyph "$round"
  output=$(client --url "http://127.0.0.1:$GLYPH_PORT" --seed="$round" decode \
    --prompt-tokens 1 --max-new-tokens "$DECODE_TOKENS")
  record_result glyph decode_tps "$round" "$(jq .tokens_per_second <<<"$output")" "$output"
  output=$(client --url "http://127.0.0.1:$GLYPH_PORT" --seed="$round" prefill \
    --prompt-tokens "$PREFILL_TOKENS")
  record_result glyph prefill_tps "$round" "$(jq .tokens_per_second <<<"$output")" "$output"
  stream_tests glyph "$round" "$GLYPH_PORT"
  stop_server
}

main() {
  local started_at=$SECONDS
  mkdir -p "$RUN_DIR"
  : >"$RESULTS"
  : >"$COMMANDS"
  [[ $ROUNDS -ge 1 ]] || die "ROUNDS is $ROUNDS; it must be at least 1"

  fetch_llama_cpp
  build_llama_cpp
  make_model
  build_copy_bandwidth
  if wants_engine glyph; then build_glyph; fi

  local round
  for ((round = 1; round <= ROUNDS; round++)); do
    # Alternate which engine goes first, so slow drifts in machine load hit both alike.
    if ((round % 2 == 1)); then
      if wants_engine llama; then measure_llama "$round"; fi
      if wants_engine glyph; then measure_glyph "$round"; fi
    else
      if wants_engine glyph; then measure_glyph "$round"; fi
      if wants_engine llama; then measure_llama "$round"; fi
    fi
  done

  local glyph_log=""
  if wants_engine glyph; then glyph_log="$RUN_DIR/glyph-serve-1.log"; fi
  python3 "$BENCH/summarize_cpu_vs_llama_cpp.py" --results "$RESULTS" --commands "$COMMANDS" \
    --model-dir "$MODEL_DIR" --llama-src "$LLAMA_SRC" --llama-version "$LLAMA_CPP_PYTHON_VERSION" \
    --threads "$THREADS" --rounds "$ROUNDS" --glyph-log "$glyph_log" \
    --seconds "$((SECONDS - started_at))" --doc "$DOC"
}

main "$@"
