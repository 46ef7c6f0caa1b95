"""SGLang's native routes against `glyph serve` on the tiny model: /generate,
/v1/completions, /get_server_info, /health_generate, /flush_cache and /metrics."""

import json

import pytest
import requests

from conftest import RunningServer


@pytest.fixture(scope="module")
def native_server():
    running = RunningServer("glyph", ["--enable-metrics", "--enable-cache-report",
                                      "--skip-server-warmup"])
    yield running
    running.stop()


def post(server, path, body):
    return requests.post(f"{server.base_url}{path}", json=body, timeout=120)


def read_sse(response):
    """Parses a Server-Sent Events body into JSON chunks; checks the [DONE] end."""
    chunks = []
    lines = [line for line in response.iter_lines(decode_unicode=True) if line]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        assert line.startswith("data: ")
        chunks.append(json.loads(line[len("data: "):]))
    return chunks


def test_generate_text(native_server):
    reply = post(native_server, "/generate", {
        "text": "The capital city of France is",
        "sampling_params": {"max_new_tokens": 8, "temperature": 0},
    })
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert isinstance(body["text"], str)
    assert len(body["output_ids"]) == body["meta_info"]["completion_tokens"]
    meta = body["meta_info"]
    assert meta["prompt_tokens"] > 0
    assert meta["finish_reason"]["type"] in ("length", "stop")
    if meta["finish_reason"]["type"] == "length":
        assert meta["finish_reason"]["length"] == 8


def test_generate_input_ids_matches_text(native_server):
    ids = requests.post(f"{native_server.base_url}/v1/tokenize",
                        json={"prompt": "Hello there"}, timeout=30).json()["tokens"]
    params = {"max_new_tokens": 6, "temperature": 0, "ignore_eos": True}
    by_text = post(native_server, "/generate", {"text": "Hello there", "sampling_params": params})
    by_ids = post(native_server, "/generate", {"input_ids": ids, "sampling_params": params})
    assert by_text.json()["output_ids"] == by_ids.json()["output_ids"]


def test_generate_batch(native_server):
    reply = post(native_server, "/generate", {
        "text": ["one", "two", "three"],
        "sampling_params": {"max_new_tokens": 3, "temperature": 0, "ignore_eos": True},
    })
    assert reply.status_code == 200, reply.text
    results = reply.json()
    assert len(results) == 3
    assert all(result["meta_info"]["completion_tokens"] == 3 for result in results)


def test_generate_accepts_null_sampling_fields(native_server):
    # The sampling_params that SGLang's few-shot GSM8K client sends.
    reply = post(native_server, "/generate", {
        "text": "Question: 1+1?\nAnswer:",
        "sampling_params": {"skip_special_tokens": True, "spaces_between_special_tokens": True,
                            "max_new_tokens": 4, "stop": ["Question", "Assistant:"],
                            "temperature": 0, "top_p": 1.0, "top_k": -1, "min_p": 0.0,
                            "frequency_penalty": 0.0, "presence_penalty": 0.0,
                            "ignore_eos": False, "regex": None, "json_schema": None,
                            "n": 1},
    })
    assert reply.status_code == 200, reply.text


def test_generate_zero_new_tokens(native_server):
    reply = post(native_server, "/generate", {"text": "warm the cache",
                                              "sampling_params": {"max_new_tokens": 0}})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["text"] == ""
    assert body["meta_info"]["completion_tokens"] == 0
    assert body["meta_info"]["finish_reason"] == {"type": "length", "length": 0}


def test_generate_stream_is_cumulative(native_server):
    reply = requests.post(f"{native_server.base_url}/generate", json={
        "text": "Count:", "stream": True,
        "sampling_params": {"max_new_tokens": 10, "temperature": 0, "ignore_eos": True},
    }, stream=True, timeout=120)
    assert reply.status_code == 200
    chunks = read_sse(reply)
    texts = [chunk["text"] for chunk in chunks]
    for earlier, later in zip(texts, texts[1:]):
        assert later.startswith(earlier)
    assert [c["meta_info"]["completion_tokens"] for c in chunks][-1] == 10
    assert all(c["meta_info"]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["meta_info"]["finish_reason"]["type"] == "length"
    whole = post(native_server, "/generate", {
        "text": "Count:",
        "sampling_params": {"max_new_tokens": 10, "temperature": 0, "ignore_eos": True}})
    assert whole.json()["text"] == texts[-1]


def test_generate_return_logprob(native_server):
    reply = post(native_server, "/generate", {
        "text": "Hi", "return_logprob": True,
        "sampling_params": {"max_new_tokens": 4, "temperature": 0, "ignore_eos": True}})
    meta = reply.json()["meta_info"]
    logprobs = meta["output_token_logprobs"]
    assert len(logprobs) == 4
    assert [entry[1] for entry in logprobs] == reply.json()["output_ids"]
    assert all(entry[0] <= 0 for entry in logprobs)


@pytest.mark.parametrize("body, field", [
    ({"text": "x", "sampling_params": {"temperature": -1}}, "temperature"),
    ({"text": "x", "sampling_params": {"max_new_tokens": -2}}, "max_new_tokens"),
    ({"text": "x", "sampling_params": {"top_p": 0}}, "top_p"),
    ({"input_ids": [1, 2, 99999999]}, "input_ids[2]"),
    ({"input_ids": []}, "input_ids"),
    ({}, "text or input_ids"),
    ({"text": "x", "sampling_params": "hot"}, "sampling_params"),
    ({"text": "x", "image_data": "data:image/png;base64,AAAA"}, "image_data"),
])
def test_generate_rejects_bad_input(native_server, body, field):
    reply = post(native_server, "/generate", body)
    assert reply.status_code == 400, reply.text
    assert field in reply.json()["message"]


def test_generate_rejects_long_prompt(native_server):
    reply = post(native_server, "/generate", {"input_ids": [5] * 5000})
    assert reply.status_code == 400
    assert "context length" in reply.json()["message"]


def test_completions(native_server):
    reply = post(native_server, "/v1/completions", {
        "model": "tiny", "prompt": "Once upon a time", "max_tokens": 5, "temperature": 0,
        "ignore_eos": True})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-")
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5


def test_completions_default_max_tokens_is_16(native_server):
    reply = post(native_server, "/v1/completions", {"prompt": "x", "ignore_eos": True})
    assert reply.json()["usage"]["completion_tokens"] == 16


def test_completions_stream_matches_non_stream(native_server):
    body = {"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0, "ignore_eos": True}
    whole = post(native_server, "/v1/completions", body).json()["choices"][0]["text"]
    reply = requests.post(f"{native_server.base_url}/v1/completions",
                          json={**body, "stream": True, "stream_options": {"include_usage": True}},
                          stream=True, timeout=120)
    chunks = read_sse(reply)
    assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"]) == whole
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 12


def test_openai_client_completions(native_server):
    from openai import OpenAI
    client = OpenAI(base_url=f"{native_server.base_url}/v1", api_key="EMPTY")
    completion = client.completions.create(model="tiny", prompt="Hello", max_tokens=4,
                                           temperature=0, extra_body={"ignore_eos": True})
    assert completion.usage.completion_tokens == 4


def test_prefix_cache_reports_cached_tokens(native_server):
    prompt = "A long shared system prompt. " * 20
    body = {"text": prompt, "sampling_params": {"max_new_tokens": 2, "temperature": 0}}
    post(native_server, "/generate", body)
    second = post(native_server, "/generate", body).json()
    assert second["meta_info"]["cached_tokens"] > 0
    chat = post(native_server, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": prompt}], "max_tokens": 2})
    post(native_server, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": prompt}], "max_tokens": 2})
    again = post(native_server, "/v1/chat/completions", {
        "messages": [{"role": "user", "content": prompt}], "max_tokens": 2}).json()
    assert chat.status_code == 200
    assert again["usage"]["prompt_tokens_details"]["cached_tokens"] > 0


def test_server_info_and_model_info(native_server):
    info = requests.get(f"{native_server.base_url}/get_server_info", timeout=30).json()
    assert info["context_length"] == 4096
    assert info["internal_states"][0]["avg_spec_accept_length"] is None
    model = requests.get(f"{native_server.base_url}/get_model_info", timeout=30).json()
    assert model["is_generation"] is True
    assert model["model_path"].endswith("tiny-glyph")


def test_health_generate(native_server):
    assert requests.get(f"{native_server.base_url}/health_generate", timeout=60).status_code == 200


def test_flush_cache_then_metrics(native_server):
    assert requests.post(f"{native_server.base_url}/flush_cache", timeout=30).status_code == 200
    info = requests.get(f"{native_server.base_url}/get_server_info", timeout=30).json()
    assert info["internal_states"][0]["num_cached_pages"] == 0
    metrics = requests.get(f"{native_server.base_url}/metrics", timeout=30).text
    for name in ("sglang:prompt_tokens_total", "sglang:generation_tokens_total",
                 "sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage",
                 "sglang:cache_hit_rate", "sglang:time_to_first_token_seconds_bucket",
                 "sglang:e2e_request_latency_seconds_count"):
        assert name in metrics


def test_metrics_absent_without_flag(server):
    assert requests.get(f"{server.base_url}/metrics", timeout=30).status_code == 404


def test_stream_is_not_compressed(native_server):
    # A gzip stream would hold every SSE chunk back until the reply ends.
    reply = requests.post(f"{native_server.base_url}/generate", json={
        "text": "hi", "stream": True, "sampling_params": {"max_new_tokens": 3}},
        headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60)
    assert "Content-Encoding" not in reply.headers
    assert read_sse(reply)[-1]["meta_info"]["finish_reason"] is not None
