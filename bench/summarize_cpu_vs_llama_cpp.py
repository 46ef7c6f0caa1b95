#!/usr/bin/env python3
"""Turn the measurements of bench/cpu_vs_llama_cpp.sh into one table and docs/benchmarks.md.

Reads the results file (one JSON object per measurement: engine, metric, round, value, detail),
prints the table to stdout and, with --doc, writes the page with the date, the machine, the
exact commands and how each side was timed.

Each figure is the median and the best of the rounds. For tokens/s and GB/s the best is the
highest value, i.e. the run with the least time, which is the one least disturbed by other work on
a shared machine. Ratios are glyph / llama.cpp, of the medians and of the bests.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import struct
import subprocess
from collections import defaultdict
from pathlib import Path

ENGINES = ("llama", "glyph")
STREAM_COUNTS = (1, 8, 16)

# Targets for glyph, checked against the medians.
TARGET_DECODE_RATIO = 1.0
TARGET_DECODE_COPY_SHARE = 0.70
TARGET_PREFILL_RATIO = 1.0
TARGET_STREAMS16_OVER_DECODE = 3.0


def read_results(path):
    """Return {(engine, metric): {round: value}} and {(engine, metric): [detail, ...]}."""
    values = defaultdict(dict)
    details = defaultdict(list)
    with open(path) as file:
        for line in file:
            if line.strip():
                record = json.loads(line)
                key = (record["engine"], record["metric"])
                values[key][record["round"]] = record["value"]
                details[key].append(record["detail"])
    return values, details


def decode_bytes_per_token(model_dir):
    """Bytes of weights one batch-1 decode step reads: every tensor of model.safetensors except
    the embedding table, of which only the new token's row is read."""
    with open(Path(model_dir) / "model.safetensors", "rb") as file:
        header_size = struct.unpack("<Q", file.read(8))[0]
        header = json.loads(file.read(header_size))
    total = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        if name.endswith("embed_tokens.weight"):
            total += (end - begin) // entry["shape"][0]
        else:
            total += end - begin
    return total


def median_of(samples):
    return statistics.median(samples) if samples else None


def best_of(samples):
    return max(samples) if samples else None


class Figures:
    """Per-round samples of each (engine, metric), and figures derived from them round by round.

    A derived figure (a bandwidth share, a scaling factor) divides two measurements of the same
    engine in the same round, so that both were taken under the same load from other work."""

    def __init__(self, values, bytes_per_token):
        self.values = values
        self.bytes_per_token = bytes_per_token

    def samples(self, engine, metric):
        return list(self.values.get((engine, metric), {}).values())

    def median(self, engine, metric):
        return median_of(self.samples(engine, metric))

    def best(self, engine, metric):
        return best_of(self.samples(engine, metric))

    def per_round(self, engine, numerator_metric, denominator_metric, scale=1.0):
        numerators = self.values.get((engine, numerator_metric), {})
        denominators = self.values.get((engine, denominator_metric), {})
        return [numerators[round_number] * scale / denominators[round_number]
                for round_number in numerators
                if denominators.get(round_number)]

    def decode_gbps(self, engine):
        return [tokens_per_second * self.bytes_per_token / 1e9
                for tokens_per_second in self.samples(engine, "decode_tps")]

    def decode_copy_share(self, engine):
        return self.per_round(engine, "decode_tps", "copy_gbps", self.bytes_per_token / 1e9)

    def decode_read_share(self, engine):
        return self.per_round(engine, "decode_tps", "read_gbps", self.bytes_per_token / 1e9)

    def streams16_over_decode(self, engine):
        return self.per_round(engine, "streams16_tps", "decode_tps")


def format_number(value, digits=2):
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"


def format_ratio(numerator, denominator):
    if numerator is None or not denominator:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def table_rows(figures):
    """Rows of (label, llama median, llama best, glyph median, glyph best, ratio of medians,
    ratio of bests)."""
    rows = []

    def engine_row(label, metric, digits=2):
        llama = (figures.median("llama", metric), figures.best("llama", metric))
        glyph = (figures.median("glyph", metric), figures.best("glyph", metric))
        rows.append((label, format_number(llama[0], digits), format_number(llama[1], digits),
                     format_number(glyph[0], digits), format_number(glyph[1], digits),
                     format_ratio(glyph[0], llama[0]), format_ratio(glyph[1], llama[1])))

    def derived_row(label, compute, scale=1.0, digits=2, unit=""):
        cells = []
        for engine in ENGINES:
            samples = [value * scale for value in compute(engine)]
            cells += [median_of(samples), best_of(samples)]
        rows.append((label, *[format_number(value, digits) + (unit if value is not None else "")
                              for value in cells],
                     format_ratio(cells[2], cells[0]), format_ratio(cells[3], cells[1])))

    engine_row("decode, batch 1 (tokens/s)", "decode_tps")
    derived_row("decode weight bandwidth (GB/s)", figures.decode_gbps)
    derived_row("decode bandwidth / copy bandwidth", figures.decode_copy_share, 100, 0, "%")
    derived_row("decode bandwidth / read bandwidth", figures.decode_read_share, 100, 0, "%")
    engine_row(f"prefill, 512-token prompt (tokens/s)", "prefill_tps")
    for count in STREAM_COUNTS:
        noun = "stream" if count == 1 else "streams"
        engine_row(f"output, {count} concurrent {noun} (tokens/s)", f"streams{count}_tps")
    derived_row("16-stream output / batch-1 decode", figures.streams16_over_decode, 1, 2, "x")
    for label, metric in (("copy bandwidth before the engine's tests (GB/s, read + write)",
                           "copy_gbps"),
                          ("read bandwidth before the engine's tests (GB/s)", "read_gbps")):
        cells = []
        for engine in ENGINES:
            cells += [format_number(figures.median(engine, metric)),
                      format_number(figures.best(engine, metric))]
        rows.append((label, *cells, "", ""))
    loads = [(figures.median(engine, "loadavg1"),
              min(figures.samples(engine, "loadavg1"), default=None)) for engine in ENGINES]
    rows.append(("1-minute load average before the engine's tests (median, lowest)",
                 *[format_number(value) for pair in loads for value in pair], "", ""))
    llama_single = (figures.median("llama", "decode_1thread_tps"),
                    figures.best("llama", "decode_1thread_tps"))
    if llama_single[0] is not None:
        rows.append(("context: llama.cpp decode with 1 thread (tokens/s)",
                     format_number(llama_single[0]), format_number(llama_single[1]),
                     "", "", "", ""))
    return rows


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def check_targets(figures):
    """Return (description, value text, met) for each target, from the medians."""
    checks = []

    def ratio(metric):
        glyph, llama = figures.median("glyph", metric), figures.median("llama", metric)
        return None if glyph is None or not llama else glyph / llama

    decode_ratio = ratio("decode_tps")
    checks.append((f"batch-1 decode >= {TARGET_DECODE_RATIO:.1f}x llama.cpp",
                   format_ratio(decode_ratio, 1.0),
                   None if decode_ratio is None else decode_ratio >= TARGET_DECODE_RATIO))
    share = median_of(figures.decode_copy_share("glyph"))
    read_share = median_of(figures.decode_read_share("glyph"))
    share_text = "n/a" if share is None else f"{share:.0%}"
    if read_share is not None:
        share_text += f" ({read_share:.0%} of read bandwidth)"
    checks.append((f"batch-1 decode >= {TARGET_DECODE_COPY_SHARE:.0%} of copy bandwidth", share_text,
                   None if share is None else share >= TARGET_DECODE_COPY_SHARE))
    prefill_ratio = ratio("prefill_tps")
    checks.append((f"prefill >= {TARGET_PREFILL_RATIO:.1f}x llama.cpp",
                   format_ratio(prefill_ratio, 1.0),
                   None if prefill_ratio is None else prefill_ratio >= TARGET_PREFILL_RATIO))
    scaling = median_of(figures.streams16_over_decode("glyph"))
    checks.append((f"16-stream output >= {TARGET_STREAMS16_OVER_DECODE:.0f}x glyph's batch-1 decode",
                   format_number(scaling) + ("x" if scaling is not None else ""),
                   None if scaling is None else scaling >= TARGET_STREAMS16_OVER_DECODE))
    return checks


def lscpu_field(name):
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return "unknown"


def memory_gib():
    with open("/proc/meminfo") as file:
        for line in file:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1 << 20)
    return None


def glyph_startup_lines(log_path):
    """Return the line of glyph's start-up log that reports the loaded model, threads and SIMD."""
    if not log_path or not os.path.exists(log_path):
        return []
    pattern = re.compile(r"loaded .*text decoder")
    with open(log_path, errors="replace") as file:
        return [line.rstrip() for line in file if pattern.search(line)][:1]


def llama_build_info(details):
    for detail in details.get(("llama", "decode_tps"), []) + details.get(("llama", "prefill_tps"), []):
        keys = ("build_commit", "cpu_info", "backends", "n_threads", "type_k",
                "type_v", "n_batch", "n_ubatch", "flash_attn", "use_mmap")
        return {key: detail.get(key) for key in keys if key in detail}
    return {}


def method_text(bytes_per_token, kv_tokens_note):
    gigabytes = bytes_per_token / 1e9
    return f"""\
- **Model.** A random-weight Glyph (`Glm4vForConditionalGeneration`) with 4 decoder layers instead
  of 40, written in BF16 by `bench/make_dummy_glyph.py`. Every width is Glyph's: hidden 4096, 32
  query and 2 KV heads of 128, MLP 13696 with fused gate_up, vocabulary 151552, untied lm_head,
  rope_theta 500000, M-RoPE sections [8, 12, 12]. glyph loads the safetensors directory; llama.cpp
  loads the GGUF BF16 file that its own `convert_hf_to_gguf.py` (from the same source
  distribution) made of it, so both run the same BF16 matrices (llama.cpp keeps biases and norms
  in F32). With 4 layers the embedding and lm_head are a larger share of the weights than in the
  40-layer model, so the lm_head matmul weighs more in every figure.
- **Batch-1 decode.** llama.cpp: `llama-bench -p 0 -n 128`, which times 128 single-token forward
  passes from an empty context, without sampling, after one warm-up pass. glyph: one non-streaming
  `POST /generate` with a 1-token prompt, `ignore_eos` and `max_new_tokens` 128, timed by the client
  from sending the request to receiving the response; tokens/s = `meta_info.completion_tokens` /
  that time. Nothing is subtracted: glyph's figure includes the prompt's forward pass (which emits
  the first of the 128 tokens), sampling, detokenization and HTTP, after one untimed warm-up
  request.
- **Decode bandwidth.** The weight bytes one decode step reads ({gigabytes:.3f} GB: every tensor
  except the embedding table, plus one embedding row) times decode tokens/s. It is compared with
  the copy bandwidth that `bench/copy_bandwidth.cpp` measures right before that engine's decode
  test in the same round. There 2 threads memcpy one 1 GiB buffer into another, read plus written
  bytes count as in STREAM's Copy, and the best of 20 passes is kept. The share is taken round by
  round, then its median and best are shown. The same tool's read bandwidth (2 threads summing
  1 GiB with AVX-512 loads) is shown beside it. It is a plain load loop, not a ceiling, and a
  decode step can beat it.
  KV-cache reads (at most 0.5 MB per step here) are left out.
- **Prefill.** llama.cpp: `llama-bench -p 512 -n 0` (one 512-token batch, after one warm-up
  batch). glyph: time to first token of a non-streaming `POST /generate` with a 512-token prompt
  and `max_new_tokens` 1, server started with `--disable-radix-cache`, measured by the client
  (includes sampling the one token and HTTP); tokens/s = 512 / that time.
- **Concurrent streams.** Both servers are timed by the same client, `bench/serving_client.py
  streams`. It sends N streaming `POST /v1/completions` requests at once, each with its own 32
  random token ids as the prompt, `ignore_eos` and `max_tokens` 64. Output tokens/s = all
  completion tokens / time from sending the first request to the end of the last stream, so the
  prefill of the N prompts is included. llama.cpp runs `llama-server -np 16 --cont-batching` and
  glyph runs `glyph serve`. {kv_tokens_note}
- **llama.cpp with 1 thread.** `llama-bench -t 1 -p 0 -n 128`, shown for context and left out of
  the ratios. ggml's threads meet at a barrier after every op, so when other processes take one of
  the 2 cores, llama.cpp with 2 threads can decode slower than with 1; this row shows how much of
  the gap is that.
- **Noise control.** Only one engine is loaded at a time, and every round measures both engines,
  alternating which goes first. The machine is shared with other work whose load drifts within
  minutes. So each engine's copy bandwidth and load average are taken right before its own tests,
  and ratios within one engine (bandwidth share, 16 streams over batch 1) pair figures of the same
  round."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--commands", required=True, type=Path)
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--llama-src", required=True, type=Path)
    parser.add_argument("--llama-version", required=True, help="llama-cpp-python version")
    parser.add_argument("--threads", required=True, type=int)
    parser.add_argument("--rounds", required=True, type=int)
    parser.add_argument("--glyph-log", default="", help="glyph serve's log of the first round")
    parser.add_argument("--seconds", type=int, default=None, help="wall time of the whole run")
    parser.add_argument("--doc", default="", help="markdown page to write; empty writes none")
    args = parser.parse_args()

    values, details = read_results(args.results)
    bytes_per_token = decode_bytes_per_token(args.model_dir)
    figures = Figures(values, bytes_per_token)

    header = ("figure", "llama.cpp median", "llama.cpp best", "glyph median", "glyph best",
              "glyph/llama.cpp (median)", "glyph/llama.cpp (best)")
    results_table = markdown_table(header, table_rows(figures))
    targets = check_targets(figures)
    targets_table = markdown_table(
        ("target (medians)", "measured", "met"),
        [(name, value, {True: "yes", False: "**no**", None: "n/a"}[met])
         for name, value, met in targets])

    print(results_table)
    print()
    print(targets_table)
    if args.seconds is not None:
        print(f"\nwhole run: {args.seconds} s")

    if not args.doc:
        return

    now = datetime.datetime.now().astimezone()
    cores = os.cpu_count()
    memory = memory_gib()
    llama_info = llama_build_info(details)
    glyph_lines = glyph_startup_lines(args.glyph_log)
    commands = args.commands.read_text().strip()
    kv_note = ("Both servers get a KV cache of 4096 tokens (`-c 4096`, `--max-total-tokens 4096`).")

    parts = [
        "# CPU benchmarks: glyph against llama.cpp",
        "",
        "Written by `bench/cpu_vs_llama_cpp.sh`; rerun it to refresh this page. Every figure is the "
        f"median and the best of {args.rounds} rounds; ratios are glyph / llama.cpp.",
        "",
        f"- Date: {now:%Y-%m-%d %H:%M %Z}",
        f"- Machine: {lscpu_field('Model name')}, {cores} cores "
        f"({lscpu_field('Core(s) per socket')} per socket, {lscpu_field('Socket(s)')} socket, "
        f"{lscpu_field('Thread(s) per core')} thread per core, L3 {lscpu_field('L3 cache')}), "
        + (f"{memory:.0f} GiB memory, " if memory else "")
        + f"{platform.system()} {platform.release()}",
        f"- Threads: {args.threads} for llama.cpp (`-t`); glyph starts one per core.",
        f"- llama.cpp: the tree vendored in llama-cpp-python {args.llama_version} (PyPI source "
        "distribution), CPU backend with GGML_NATIVE"
        + (f", commit {llama_info.get('build_commit')}" if llama_info else "")
        + ".",
    ]
    if llama_info:
        parts.append("- llama-bench reports: " + ", ".join(
            f"{key} {value}" for key, value in llama_info.items()
            if key != "build_commit") + ".")
    if glyph_lines:
        parts += ["- glyph serve's start-up log:", "", "  ```"]
        parts += [f"  {line}" for line in glyph_lines]
        parts += ["  ```"]
    if args.seconds is not None:
        parts.append(f"- Whole run, builds and model cached: {args.seconds // 60} min "
                     f"{args.seconds % 60} s.")
    parts += [
        "",
        "## Results",
        "",
        results_table,
        "",
        "## Targets",
        "",
        targets_table,
        "",
        "## How each figure is measured",
        "",
        method_text(bytes_per_token, kv_note),
        "",
        "## Commands",
        "",
        "Run from the repository root; `bench/.work/` is the cache directory. The client's seeds "
        "change every round.",
        "",
        "```",
        commands,
        "```",
        "",
    ]
    Path(args.doc).write_text("\n".join(parts))
    print(f"\nwrote {args.doc}")


if __name__ == "__main__":
    main()
