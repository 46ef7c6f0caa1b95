"""`glyph bench` and `glyph eval gsm8k` end to end against `glyph serve` on the tiny model.

The server binds 127.0.0.1 on a free port. The tiny model's weights are random, so these tests
check what the tools print and count, not how accurate the model is.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT, TINY_MODEL, RunningServer, binary

GSM8K_TEST_JSONL = Path(
    os.environ.get("GLYPH_GSM8K_TEST_JSONL", REPO_ROOT.parent / "shared" / "data" / "gsm8k" / "test.jsonl")
)
if not GSM8K_TEST_JSONL.exists():
    GSM8K_TEST_JSONL = Path("/work/shared/data/gsm8k/test.jsonl")

TOOL_TIMEOUT_S = 600

# The block's rows in SGLang 0.5.6 bench_serving's order.
RESULT_ROWS = [
    "============ Serving Benchmark Result ============",
    "Backend:",
    "Traffic request rate:",
    "Max request concurrency:",
    "Successful requests:",
    "Benchmark duration (s):",
    "Total input tokens:",
    "Total input text tokens:",
    "Total input vision tokens:",
    "Total generated tokens:",
    "Total generated tokens (retokenized):",
    "Request throughput (req/s):",
    "Input token throughput (tok/s):",
    "Output token throughput (tok/s):",
    "Peak output token throughput (tok/s):",
    "Peak concurrent requests:",
    "Total token throughput (tok/s):",
    "Concurrency:",
    "----------------End-to-End Latency----------------",
    "Mean E2E Latency (ms):",
    "Median E2E Latency (ms):",
    "---------------Time to First Token----------------",
    "Mean TTFT (ms):",
    "Median TTFT (ms):",
    "P99 TTFT (ms):",
    "-----Time per Output Token (excl. 1st token)------",
    "Mean TPOT (ms):",
    "Median TPOT (ms):",
    "P99 TPOT (ms):",
    "---------------Inter-Token Latency----------------",
    "Mean ITL (ms):",
    "Median ITL (ms):",
    "P95 ITL (ms):",
    "P99 ITL (ms):",
    "Max ITL (ms):",
    "==================================================",
]

# With --seed 1, bench_serving's numpy draws (np.random.seed(1), then np.random.randint) give 20
# input lengths in [1, 64] that sum to 465. The 20 output lengths in [1, 32] sum to 382.
EXPECTED_INPUT_TOKENS = 465
EXPECTED_OUTPUT_TOKENS = 382


@pytest.fixture(scope="module")
def plain_server():
    """`glyph serve --model-path tests/data/tiny-glyph --context-length 4096` on a free port,
    with the flags conftest's RunningServer adds (--reasoning-parser glm45 and --host 127.0.0.1),
    which do not change /generate."""
    running = RunningServer("glyph", [])
    yield running
    running.stop()


def run_tool(arguments, cwd):
    completed = subprocess.run(
        [str(binary("glyph")), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
    )
    return completed


def block_values(stdout):
    """Maps each row label of the result block to its value, padding stripped."""
    values = {}
    for line in stdout.splitlines():
        if len(line) > 41 and line[40] == " " and line[:40].rstrip().endswith(":"):
            values[line[:40].rstrip()] = line[41:].rstrip()
    return values


def test_bench_prints_sglang_block(plain_server, tmp_path):
    output_file = tmp_path / "bench.jsonl"
    completed = run_tool(
        [
            "bench", "--backend", "sglang", "--dataset-name", "random",
            "--random-input-len", "64", "--random-output-len", "32",
            "--num-prompts", "20", "--max-concurrency", "4",
            "--tokenizer", str(TINY_MODEL),
            "--port", str(plain_server.port), "--host", "127.0.0.1",
            "--output-file", str(output_file),
        ],
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    stdout = completed.stdout
    assert f"#Input tokens: {EXPECTED_INPUT_TOKENS}\n#Output tokens: {EXPECTED_OUTPUT_TOKENS}\n" in stdout
    lines = [line.rstrip() for line in stdout.splitlines()]
    start = lines.index(RESULT_ROWS[0])
    block = lines[start:start + len(RESULT_ROWS)]
    assert [line if line.startswith(("=", "-")) else line[:40].rstrip() for line in block] == RESULT_ROWS
    assert lines[start - 1] == "", "the block starts after a blank line"

    values = block_values(stdout)
    assert values["Backend:"] == "sglang"
    assert values["Traffic request rate:"] == "inf"
    assert values["Max request concurrency:"] == "4"
    assert values["Successful requests:"] == "20"
    assert values["Total input tokens:"] == str(EXPECTED_INPUT_TOKENS)
    assert values["Total input text tokens:"] == str(EXPECTED_INPUT_TOKENS)
    assert values["Total input vision tokens:"] == "0"
    # ignore_eos is on, so every request generates exactly what it asked for.
    assert values["Total generated tokens:"] == str(EXPECTED_OUTPUT_TOKENS)
    assert int(values["Total generated tokens (retokenized):"]) > 0
    assert 1 <= int(values["Peak concurrent requests:"]) <= 20
    for label in ("Benchmark duration (s):", "Mean TTFT (ms):", "Mean ITL (ms):", "Concurrency:"):
        assert re.fullmatch(r"\d+\.\d\d", values[label]), (label, values[label])

    records = output_file.read_text().splitlines()
    assert len(records) == 1
    record = json.loads(records[0])
    assert record["completed"] == 20
    assert record["total_output_tokens"] == EXPECTED_OUTPUT_TOKENS
    assert record["max_concurrency"] == 4
    assert record["request_rate"] == float("inf")


def test_eval_gsm8k_prints_four_lines(plain_server, tmp_path):
    verdicts = tmp_path / "gsm8k.jsonl"
    completed = run_tool(
        [
            "eval", "gsm8k", "--num-questions", "20", "--data-path", str(GSM8K_TEST_JSONL),
            "--port", str(plain_server.port), "--output-file", str(verdicts),
        ],
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.fullmatch(
        r"Accuracy: [01]\.\d{3}\nInvalid: [01]\.\d{3}\nLatency: \d+\.\d{3} s\n"
        r"Output throughput: \d+\.\d{3} token/s\n",
        completed.stdout,
    ), completed.stdout

    rows = [json.loads(line) for line in verdicts.read_text().splitlines()]
    assert len(rows) == 20
    assert [row["label"] for row in rows[:5]] == [18, 3, 70000, 540, 20]
    correct = sum(row["correct"] for row in rows)
    invalid = sum(row["prediction"] is None for row in rows)
    accuracy = float(completed.stdout.split("\n")[0].split()[1])
    assert accuracy == pytest.approx(correct / 20, abs=5e-4)
    assert float(completed.stdout.split("\n")[1].split()[1]) == pytest.approx(invalid / 20, abs=5e-4)
    assert all(row["error"] is None for row in rows)
    assert all(row["prompt"].endswith("\nAnswer:") for row in rows)
