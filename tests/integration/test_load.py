"""Load: 64 concurrent streaming clients against one server, a tenth of them
hanging up mid-stream. Afterwards every KV page is back and the server answers."""

import json
import socket
import threading
import time

import pytest
import requests

from conftest import RunningServer

CLIENTS = 64
DISCONNECTING = set(range(0, CLIENTS, 10))  # 7 of 64 clients hang up.
MAX_TOKENS = 48


@pytest.fixture(scope="module")
def load_server():
    running = RunningServer("glyph", ["--skip-server-warmup", "--max-total-tokens", "8192"])
    yield running
    running.stop()


def stream_completion(base_url, index, results):
    body = {"prompt": f"Request number {index}: tell a story.", "max_tokens": MAX_TOKENS,
            "temperature": 0.7, "seed": index, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    tokens = None
    with requests.post(f"{base_url}/v1/completions", json=body, stream=True, timeout=300) as reply:
        results[index] = ("status", reply.status_code)
        for line in reply.iter_lines(decode_unicode=True):
            if line == "data: [DONE]":
                results[index] = ("done", tokens)
                return
            if line.startswith("data: "):
                chunk = json.loads(line[len("data: "):])
                if chunk["usage"]:
                    tokens = chunk["usage"]["completion_tokens"]


def hang_up_mid_stream(port, index, results):
    """Sends a streaming request on a raw socket, reads a little, then closes it."""
    body = json.dumps({"prompt": f"Disconnecting client {index}", "max_tokens": 4000,
                       "ignore_eos": True, "stream": True})
    request = (f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(request.encode())
        received = b""
        while received.count(b"data: ") < 3:
            data = sock.recv(4096)
            if not data:
                break
            received += data
    results[index] = ("hung up", received.count(b"data: "))


def server_state(base_url):
    return requests.get(f"{base_url}/get_server_info", timeout=30).json()["internal_states"][0]


def test_many_streams_with_disconnects(load_server):
    base_url = load_server.base_url
    requests.post(f"{base_url}/flush_cache", timeout=30)
    before = server_state(base_url)

    results = {}
    threads = []
    for index in range(CLIENTS):
        if index in DISCONNECTING:
            target = hang_up_mid_stream
            args = (load_server.port, index, results)
        else:
            target = stream_completion
            args = (base_url, index, results)
        thread = threading.Thread(target=target, args=args)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=600)
        assert not thread.is_alive()

    hung_up = [value for value in results.values() if value[0] == "hung up"]
    finished = [value for value in results.values() if value[0] == "done"]
    assert len(hung_up) == len(DISCONNECTING)
    assert len(hung_up) + len(finished) == CLIENTS
    assert all(tokens == MAX_TOKENS for _, tokens in finished)

    # The aborted requests' pages come back within a few scheduler steps.
    deadline = time.monotonic() + 10
    while server_state(base_url)["num_running_reqs"] and time.monotonic() < deadline:
        time.sleep(0.1)
    requests.post(f"{base_url}/flush_cache", timeout=30)
    after = server_state(base_url)
    assert after["num_running_reqs"] == 0
    assert after["num_queue_reqs"] == 0
    assert after["num_used_pages"] == before["num_used_pages"] == 0
    assert after["num_cached_pages"] == 0
    assert requests.get(f"{base_url}/health_generate", timeout=60).status_code == 200


def send_and_close(port, path, body, wait_s):
    """Sends a non-streaming request on a raw socket and closes it after wait_s."""
    payload = json.dumps(body)
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n{payload}")
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request.encode())
        time.sleep(wait_s)


def test_disconnected_non_streaming_requests_are_cancelled(load_server):
    base_url = load_server.base_url
    long_chat = {"messages": [{"role": "user", "content": "Tell a long story."}],
                 "max_tokens": 4000, "ignore_eos": True}
    long_generate = {"text": "Tell a long story.",
                     "sampling_params": {"max_new_tokens": 4000, "ignore_eos": True}}
    threads = [threading.Thread(target=send_and_close, args=(load_server.port, path, body, 1.0))
               for path, body in [("/v1/chat/completions", long_chat)] * 3 +
               [("/generate", long_generate)] * 3]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    assert server_state(base_url)["num_running_reqs"] > 0
    for thread in threads:
        thread.join()

    # Generating 4000 tokens takes far longer than this; only cancellation ends them so soon.
    deadline = time.monotonic() + 5
    while server_state(base_url)["num_running_reqs"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_state(base_url)["num_running_reqs"] == 0
    assert requests.get(f"{base_url}/health_generate", timeout=60).status_code == 200
