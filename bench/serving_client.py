#!/usr/bin/env python3
"""Time requests against a running glyph or llama.cpp server, as a client sees them.

Subcommands, each printing one JSON object on stdout:

  decode   POST /generate (glyph and SGLang's native route) with a short prompt, ignore_eos and a
           fixed max_new_tokens; decode tokens/s = completion tokens / client wall time from
           sending the request to receiving the whole response. The first token comes out of the
           prompt's forward pass, so with a 1-token prompt the time covers exactly max_new_tokens
           forward passes, as llama-bench's tg test does. meta_info.e2e_latency (the server's own
           clock) is reported beside it.
  prefill  POST /generate with a prompt of random token ids and max_new_tokens 1; prefill
           tokens/s = prompt tokens / client wall time (the time to first token of a non-streaming
           request, which also includes sampling that one token and the HTTP round trip).
  streams  N concurrent streaming POST /v1/completions requests (OpenAI route, served by both
           glyph and llama-server), each with its own random token-id prompt, ignore_eos and a
           fixed max_tokens; output tokens/s = completion tokens of all streams / wall time from
           sending the first request to receiving the last stream's end. Also reports the median
           time to first token and the median time per output token after the first.

Prompts are random token ids below GLM's first special token (151329), so they tokenize the same
way on every server and no server can serve them from a prefix cache of an earlier run. Only the
standard library is used, so the script runs in any Python 3.9+.
"""

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

# Ordinary (non-special) token ids of the GLM-4 vocabulary are 0..151328; the prompts stay well
# inside that range.
PROMPT_ID_MIN = 1000
PROMPT_ID_MAX = 150000

REQUEST_TIMEOUT_S = 1800


def random_prompt(length, seed):
    generator = random.Random(seed)
    return [generator.randrange(PROMPT_ID_MIN, PROMPT_ID_MAX) for _ in range(length)]


def open_connection(url):
    parsed = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=REQUEST_TIMEOUT_S)


def post_json(url, path, body):
    """POST body as JSON and return the decoded JSON response; raise on an HTTP error."""
    connection = open_connection(url)
    try:
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"POST {path} returned HTTP {response.status}: {payload[:500]!r}")
    return json.loads(payload)


def generate_once(url, prompt_ids, max_new_tokens):
    """Send one non-streaming /generate request; return (client seconds, response JSON)."""
    body = {
        "input_ids": prompt_ids,
        "sampling_params": {"max_new_tokens": max_new_tokens, "ignore_eos": True,
                            "temperature": 0.0},
    }
    start = time.perf_counter()
    result = post_json(url, "/generate", body)
    return time.perf_counter() - start, result


def check_completion_tokens(meta, expected):
    if meta.get("completion_tokens") != expected:
        raise RuntimeError(f"the server generated {meta.get('completion_tokens')} tokens, expected "
                           f"{expected}; it ignored ignore_eos or max_new_tokens")


def run_decode(args):
    generate_once(args.url, random_prompt(args.prompt_tokens, args.seed + 1), 4)  # warm-up
    seconds, result = generate_once(args.url, random_prompt(args.prompt_tokens, args.seed),
                                    args.max_new_tokens)
    meta = result["meta_info"]
    check_completion_tokens(meta, args.max_new_tokens)
    return {
        "prompt_tokens": meta.get("prompt_tokens"),
        "completion_tokens": meta["completion_tokens"],
        "client_seconds": seconds,
        "server_e2e_latency": meta.get("e2e_latency"),
        "tokens_per_second": meta["completion_tokens"] / seconds,
    }


def run_prefill(args):
    generate_once(args.url, random_prompt(args.prompt_tokens, args.seed + 1), 1)  # warm-up
    seconds, result = generate_once(args.url, random_prompt(args.prompt_tokens, args.seed), 1)
    meta = result["meta_info"]
    check_completion_tokens(meta, 1)
    if meta.get("prompt_tokens") != args.prompt_tokens:
        raise RuntimeError(f"the server counted {meta.get('prompt_tokens')} prompt tokens, "
                           f"expected {args.prompt_tokens}")
    cached = meta.get("cached_tokens", 0) or 0
    if cached:
        raise RuntimeError(f"{cached} prompt tokens came from the prefix cache; start the server "
                           "with --disable-radix-cache")
    return {
        "prompt_tokens": meta["prompt_tokens"],
        "client_seconds": seconds,
        "server_e2e_latency": meta.get("e2e_latency"),
        "tokens_per_second": meta["prompt_tokens"] / seconds,
    }


class StreamResult:
    def __init__(self):
        self.first_token_at = None
        self.finished_at = None
        self.completion_tokens = None
        self.error = None


def read_stream(url, body, result):
    """Send one streaming /v1/completions request and record when its tokens arrive."""
    connection = open_connection(url)
    try:
        connection.request("POST", "/v1/completions", json.dumps(body),
                           {"Content-Type": "application/json", "Accept": "text/event-stream"})
        response = connection.getresponse()
        if response.status != 200:
            result.error = f"HTTP {response.status}: {response.read()[:500]!r}"
            return
        for raw_line in response:
            line = raw_line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[len(b"data:"):].strip()
            if data == b"[DONE]":
                break
            chunk = json.loads(data)
            usage = chunk.get("usage")
            if usage and usage.get("completion_tokens") is not None:
                result.completion_tokens = usage["completion_tokens"]
            choices = chunk.get("choices") or []
            if choices and choices[0].get("text"):
                if result.first_token_at is None:
                    result.first_token_at = time.perf_counter()
        result.finished_at = time.perf_counter()
    except Exception as error:  # Reported with the stream's index by the caller.
        result.error = repr(error)
    finally:
        connection.close()


def completion_body(args, prompt_ids, max_tokens):
    return {
        "model": args.model,
        "prompt": prompt_ids,
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def run_streams(args):
    # Warm-up: one short stream, not timed.
    warm_up = StreamResult()
    read_stream(args.url, completion_body(args, random_prompt(args.prompt_tokens, args.seed - 1), 4),
                warm_up)
    if warm_up.error:
        raise RuntimeError(f"the warm-up stream failed: {warm_up.error}")

    results = [StreamResult() for _ in range(args.streams)]
    threads = [
        threading.Thread(target=read_stream, args=(
            args.url, completion_body(args, random_prompt(args.prompt_tokens, args.seed + i),
                                      args.max_tokens), results[i]))
        for i in range(args.streams)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = max(result.finished_at or start for result in results) - start

    for index, result in enumerate(results):
        if result.error:
            raise RuntimeError(f"stream {index} failed: {result.error}")
        if result.completion_tokens is None:
            raise RuntimeError(f"stream {index} ended without a usage object; the server must "
                               "honour stream_options.include_usage")
        if result.completion_tokens != args.max_tokens:
            raise RuntimeError(f"stream {index} generated {result.completion_tokens} tokens, "
                               f"expected {args.max_tokens}; the server ignored ignore_eos")

    total_tokens = sum(result.completion_tokens for result in results)
    ttfts = [result.first_token_at - start for result in results]
    tpots = [(result.finished_at - result.first_token_at) / (result.completion_tokens - 1)
             for result in results if result.completion_tokens > 1]
    return {
        "streams": args.streams,
        "prompt_tokens_per_stream": args.prompt_tokens,
        "completion_tokens": total_tokens,
        "wall_seconds": wall,
        "output_tokens_per_second": total_tokens / wall,
        "median_ttft_seconds": statistics.median(ttfts),
        "median_tpot_seconds": statistics.median(tpots) if tpots else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:30000")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random prompt ids")
    subcommands = parser.add_subparsers(dest="command", required=True)

    decode = subcommands.add_parser("decode", help="batch-1 decode tokens/s through /generate")
    decode.add_argument("--prompt-tokens", type=int, default=1)
    decode.add_argument("--max-new-tokens", type=int, default=128)

    prefill = subcommands.add_parser("prefill", help="prefill tokens/s through /generate")
    prefill.add_argument("--prompt-tokens", type=int, default=512)

    streams = subcommands.add_parser("streams", help="output tokens/s of concurrent streams")
    streams.add_argument("--streams", type=int, required=True)
    streams.add_argument("--prompt-tokens", type=int, default=32)
    streams.add_argument("--max-tokens", type=int, default=64)
    streams.add_argument("--model", default="default",
                         help="model field of the request (both servers accept any name here)")

    args = parser.parse_args()
    runners = {"decode": run_decode, "prefill": run_prefill, "streams": run_streams}
    try:
        print(json.dumps(runners[args.command](args)))
    except (RuntimeError, OSError) as error:
        sys.exit(f"serving_client {args.command} against {args.url} failed: {error}")


if __name__ == "__main__":
    main()
