"""Reasoning splits through the whole server, streamed and not, against glyph_test_server.

"_scripted_output" fixes the reply: each piece is tokenized on its own, so splitting a text
into pieces chooses where token boundaries fall. Every text is split at every character
boundary into two pieces, and also cut into one piece per token. The streamed and the
non-streamed split must both equal the expected one.
"""

import json

import pytest
import requests
from openai import OpenAI

# (name, reply text, reasoning_content, content) for replies that end on their own.
STOP_CASES = [
    ("closed reasoning",
     "<think>\nLet me compute 15% of 240.\n</think>\n\nThe answer is 36.",
     "Let me compute 15% of 240.", "The answer is 36."),
    ("no reasoning", "Paris is the capital.", None, "Paris is the capital."),
    ("empty reasoning", "<think></think>\nParis.", None, "Paris."),
    ("unclosed reasoning is also content", "<think>The answer is 36", "The answer is 36",
     "The answer is 36"),
    ("unicode", "<think>北京？</think>答案：北京", "北京？", "答案：北京"),
]

# (name, reply text, reasoning_content, content) for replies cut off by max_tokens.
LENGTH_CASES = [
    ("unclosed reasoning stays reasoning", "<think>Still thinking about", "Still thinking about",
     None),
    ("cut in the answer", "<think>r</think>The answ", "r", "The answ"),
]

# Text the script carries after a length case's reply, which max_tokens cuts off.
CUT_OFF_TAIL = " and more"


def chat_body(pieces, stream, max_tokens=None):
    body = {
        "model": "zai-org/Glyph",
        "messages": [{"role": "user", "content": "What is 15% of 240?"}],
        "stream": stream,
        "_scripted_output": pieces,
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def non_streamed(session, base_url, pieces, max_tokens=None):
    response = session.post(f"{base_url}/v1/chat/completions",
                            json=chat_body(pieces, False, max_tokens), timeout=60)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    return choice["message"]["reasoning_content"], choice["message"]["content"], \
        choice["finish_reason"]


def streamed(session, base_url, pieces, max_tokens=None):
    response = session.post(f"{base_url}/v1/chat/completions",
                            json=chat_body(pieces, True, max_tokens), timeout=60, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    reasoning, content, finish_reason, done = "", "", None, False
    for line in response.iter_lines(decode_unicode=True):
        if not line:
            continue
        assert line.startswith("data: "), line
        data = line[len("data: "):]
        if data == "[DONE]":
            done = True
            continue
        choice = json.loads(data)["choices"][0]
        delta = choice["delta"]
        reasoning += delta["reasoning_content"] or ""
        content += delta["content"] or ""
        finish_reason = choice["finish_reason"] or finish_reason
    assert done
    return reasoning or None, content or None, finish_reason


def token_count(session, base_url, text):
    response = session.post(f"{base_url}/v1/tokenize", json={"prompt": text}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["count"]


def one_piece_per_token(session, base_url, text):
    """One piece per token, except that tokens holding parts of one character stay together."""
    tokens = session.post(f"{base_url}/v1/tokenize", json={"prompt": text},
                          timeout=30).json()["tokens"]
    pieces, group = [], []
    for token in tokens:
        group.append(token)
        piece = session.post(f"{base_url}/v1/detokenize", json={"tokens": group},
                             timeout=30).json()["text"]
        if "\ufffd" not in piece:
            pieces.append(piece)
            group = []
    assert not group
    assert "".join(pieces) == text
    return pieces


def two_piece_splits(text):
    return [[text[:i], text[i:]] for i in range(1, len(text))]


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@pytest.mark.parametrize("name,text,reasoning,content", STOP_CASES, ids=[c[0] for c in STOP_CASES])
def test_split_when_reply_stops(test_server, session, name, text, reasoning, content):
    url = test_server.base_url
    chunkings = [[text]] + two_piece_splits(text) + [one_piece_per_token(session, url, text)]
    for pieces in chunkings:
        expected = (reasoning, content, "stop")
        assert non_streamed(session, url, pieces) == expected, pieces
        assert streamed(session, url, pieces) == expected, pieces


@pytest.mark.parametrize("name,text,reasoning,content", LENGTH_CASES,
                         ids=[c[0] for c in LENGTH_CASES])
def test_split_when_reply_is_cut_off(test_server, session, name, text, reasoning, content):
    url = test_server.base_url
    chunkings = [[text]] + two_piece_splits(text) + [one_piece_per_token(session, url, text)]
    for pieces in chunkings:
        max_tokens = sum(token_count(session, url, piece) for piece in pieces)
        script = pieces + [CUT_OFF_TAIL]
        expected = (reasoning, content, "length")
        assert non_streamed(session, url, script, max_tokens) == expected, pieces
        assert streamed(session, url, script, max_tokens) == expected, pieces


def test_separate_reasoning_false_keeps_tags(test_server, session):
    text = "<think>a</think>b"
    body = chat_body([text], False)
    body["separate_reasoning"] = False
    message = session.post(f"{test_server.base_url}/v1/chat/completions", json=body,
                           timeout=60).json()["choices"][0]["message"]
    assert message["content"] == text
    assert message["reasoning_content"] is None


def test_stream_reasoning_false_sends_reasoning_once(test_server, session):
    body = chat_body(["<think>", "one ", "two", "</think>", "answer"], True)
    body["stream_reasoning"] = False
    response = session.post(f"{test_server.base_url}/v1/chat/completions", json=body,
                            timeout=60, stream=True)
    deltas = []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: {"):
            choices = json.loads(line[len("data: "):])["choices"]
            if choices and choices[0]["delta"]["reasoning_content"]:
                deltas.append(choices[0]["delta"]["reasoning_content"])
    assert deltas == ["one two"]


def test_openai_client_reads_reasoning(test_server):
    client = OpenAI(base_url=f"{test_server.base_url}/v1", api_key="EMPTY")
    script = ["<think>", "Half of 72 is 36.", "</think>", "36"]
    response = client.chat.completions.create(
        model="zai-org/Glyph",
        messages=[{"role": "user", "content": "What is 15% of 240?"}],
        extra_body={"_scripted_output": script})
    message = response.choices[0].message
    assert message.content == "36"
    assert message.reasoning_content == "Half of 72 is 36."
    assert response.choices[0].finish_reason == "stop"
    assert response.id.startswith("chatcmpl-")
    assert response.usage.completion_tokens == response.usage.total_tokens - \
        response.usage.prompt_tokens

    stream = client.chat.completions.create(
        model="zai-org/Glyph",
        messages=[{"role": "user", "content": "What is 15% of 240?"}],
        stream=True, stream_options={"include_usage": True},
        extra_body={"_scripted_output": script})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.reasoning_content or "" for c in chunks if c.choices) == \
        "Half of 72 is 36."
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "36"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == response.usage.completion_tokens


def test_plain_glyph_ignores_scripted_output(server, session):
    body = chat_body(["<think>x</think>scripted"], False, max_tokens=4)
    response = session.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] != "scripted"
    assert response.json()["usage"]["completion_tokens"] <= 4
