"""/health, /v1/models, /get_model_info, tokenize/detokenize, and the glyph command line."""

import subprocess

import pytest
import requests

from conftest import TINY_MODEL, binary


def test_health_is_empty_200(server):
    response = requests.get(f"{server.base_url}/health", timeout=30)
    assert response.status_code == 200
    assert response.content == b""


def test_models(server):
    body = requests.get(f"{server.base_url}/v1/models", timeout=30).json()
    assert body["object"] == "list"
    assert len(body["data"]) == 1
    card = body["data"][0]
    assert card["id"] == str(TINY_MODEL)  # --served-model-name defaults to the model path.
    assert card["object"] == "model"
    assert card["owned_by"] == "sglang"
    assert card["root"] == str(TINY_MODEL)
    assert card["max_model_len"] == 4096
    assert isinstance(card["created"], int)
    named = requests.get(f"{server.base_url}/v1/models/{TINY_MODEL}", timeout=30)
    assert named.status_code == 200
    assert named.json()["id"] == card["id"]


def test_model_info(server):
    info = requests.get(f"{server.base_url}/get_model_info", timeout=30).json()
    assert info["model_path"] == str(TINY_MODEL)
    assert info["tokenizer_path"] == str(TINY_MODEL)
    assert info["is_generation"] is True


def test_tokenize_detokenize_round_trip(server):
    text = "Hello, 世界! <|user|> 15% of 240 = 36</think>"
    tokenized = requests.post(f"{server.base_url}/v1/tokenize", json={"prompt": text},
                              timeout=30).json()
    assert tokenized["count"] == len(tokenized["tokens"]) > 0
    assert tokenized["max_model_len"] == 4096  # The served context length (--context-length).
    assert 151336 in tokenized["tokens"]  # <|user|> is one added token.
    detokenized = requests.post(f"{server.base_url}/v1/detokenize",
                                json={"tokens": tokenized["tokens"],
                                      "skip_special_tokens": False}, timeout=30).json()
    assert detokenized["text"] == text
    skipped = requests.post(f"{server.base_url}/detokenize",
                            json={"tokens": tokenized["tokens"]}, timeout=30).json()
    assert skipped["text"] == text.replace("<|user|>", "")


def test_tokenize_lists_and_messages(server):
    body = requests.post(f"{server.base_url}/tokenize", json={"prompt": ["a b", "c"]},
                         timeout=30).json()
    assert body["count"] == [len(body["tokens"][0]), len(body["tokens"][1])]
    texts = requests.post(f"{server.base_url}/v1/detokenize", json={"tokens": body["tokens"]},
                          timeout=30).json()["text"]
    assert texts == ["a b", "c"]

    messages = [{"role": "user", "content": "Hi"}]
    thinking = requests.post(f"{server.base_url}/v1/tokenize", json={"messages": messages},
                             timeout=30).json()["tokens"]
    no_thinking = requests.post(
        f"{server.base_url}/v1/tokenize",
        json={"messages": messages, "chat_template_kwargs": {"enable_thinking": False}},
        timeout=30).json()["tokens"]
    assert thinking[:2] == [151331, 151333]  # [gMASK]<sop>
    assert thinking[-2] == 151337  # <|assistant|>, then "\n"
    assert 151350 not in thinking  # <think>
    assert [151350, 151351] == no_thinking[-3:-1]  # <think></think>\n ends the prompt


def test_tokenize_errors(server):
    response = requests.post(f"{server.base_url}/v1/tokenize", json={}, timeout=30)
    assert response.status_code == 400
    assert "Exactly one of 'prompt' or 'messages'" in response.json()["message"]
    response = requests.post(f"{server.base_url}/v1/detokenize", json={"tokens": [10**9]},
                             timeout=30)
    assert response.status_code == 400
    assert "tokens[0]" in response.json()["message"]


def run_glyph(*args):
    return subprocess.run([str(binary("glyph")), *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args,fragment", [
    (["serve", "--model-path", str(TINY_MODEL), "--no-such-flag"], "--no-such-flag"),
    (["serve"], "--model-path"),
    (["serve", "--model-path", str(TINY_MODEL), "--port", "http"], "--port"),
    (["serve", "--model-path", str(TINY_MODEL), "--dtype", "fp16"], "--dtype"),
    (["serve", "--model-path", str(TINY_MODEL), "--reasoning-parser", "qwen3"],
     "valid choices: glm45"),
    (["serve", "--model-path", str(TINY_MODEL), "--tp", "2"], "--tp-size 2 is not supported"),
    (["serve", "--model-path", str(TINY_MODEL), "--chunked-prefill-size", "0"],
     "--chunked-prefill-size"),
    (["launch"], "launch"),
], ids=["unknown flag", "missing model", "bad port", "bad dtype", "reasoning parser", "tp",
        "chunked prefill", "unknown command"])
def test_cli_usage_errors_exit_2(args, fragment):
    result = run_glyph(*args)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert "--help" in result.stderr


def test_cli_help_exits_0():
    result = run_glyph("serve", "--help")
    assert result.returncode == 0
    for flag in ["--model-path", "--reasoning-parser", "--tool-call-parser", "--tp-size",
                 "--mem-fraction-static", "--enable-metrics", "--skip-server-warmup"]:
        assert flag in result.stdout


def test_generate_prints_text():
    result = run_glyph("generate", "--model-path", str(TINY_MODEL), "--prompt", "Hello",
                       "--max-new-tokens", "5", "--temperature", "0", "--ignore-eos")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n")
    assert len(result.stdout) > 1
    assert "5 generated tokens" in result.stderr
    again = run_glyph("generate", "--model-path", str(TINY_MODEL), "--prompt", "Hello",
                      "--max-new-tokens", "5", "--temperature", "0", "--ignore-eos")
    assert again.stdout == result.stdout  # Greedy decoding is deterministic.


def test_busy_port_exits_1(server):
    result = run_glyph("serve", "--model-path", str(TINY_MODEL), "--port", str(server.port),
                       "--skip-server-warmup")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr
