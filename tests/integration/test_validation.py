"""Bad requests get HTTP 400 with SGLang's error object naming the field; --api-key gets 401."""

import pytest
import requests

USER = [{"role": "user", "content": "Hi"}]

# (request body, a part of the error message that names the field or the fix)
BAD_BODIES = [
    ({}, "messages is missing"),
    ({"messages": []}, "messages must contain at least one message"),
    ({"messages": "Hi"}, "messages must be a list"),
    ({"messages": [{"role": "robot", "content": "Hi"}]}, 'messages[0].role "robot"'),
    ({"messages": [{"role": "user"}]}, "messages[0].content is missing"),
    ({"messages": USER, "temperature": -1}, "temperature must be a non-negative"),
    ({"messages": USER, "temperature": "warm"}, "temperature must be a number"),
    ({"messages": USER, "top_p": 0}, "top_p must be in (0, 1]"),
    ({"messages": USER, "top_p": 1.01}, "top_p must be in (0, 1]"),
    ({"messages": USER, "top_k": 0}, "top_k must be -1 (disable) or at least 1"),
    ({"messages": USER, "top_k": -5}, "top_k must be -1 (disable) or at least 1"),
    ({"messages": USER, "min_p": -0.1}, "min_p must be in [0, 1]"),
    ({"messages": USER, "repetition_penalty": 3}, "repetition_penalty must be in (0, 2]"),
    ({"messages": USER, "frequency_penalty": 2.5}, "frequency_penalty must be in [-2, 2]"),
    ({"messages": USER, "presence_penalty": -2.5}, "presence_penalty must be in [-2, 2]"),
    ({"messages": USER, "max_tokens": -1}, "max_tokens must be at least 0"),
    ({"messages": USER, "max_completion_tokens": 100000}, "max_completion_tokens is too large"),
    ({"messages": USER, "max_tokens": 4095}, "Requested token count exceeds"),
    ({"messages": USER, "n": 2}, "n=2 is not supported yet"),
    ({"messages": USER, "logprobs": True}, "logprobs is not supported yet"),
    ({"messages": USER, "stop": 3}, "stop must be a string or a list of strings"),
    ({"messages": USER, "stream": "yes"}, "stream must be true or false"),
    ({"messages": USER, "tool_choice": "required"}, "Tools cannot be empty"),
    ({"messages": [{"role": "user", "content": "word " * 5000}]},
     "longer than the model's context length (4096 tokens)"),
    ({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]},
     "image 0 (messages[0].content[1])"),
]


def assert_error(response, status, fragment):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["object"] == "error"
    assert body["code"] == status
    assert body["param"] is None
    assert body["type"] == "BadRequestError"
    assert fragment in body["message"], body["message"]


@pytest.mark.parametrize("body,fragment", BAD_BODIES, ids=[f[1] for f in BAD_BODIES])
def test_bad_request_is_400(server, body, fragment):
    response = requests.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=30)
    assert_error(response, 400, fragment)


def test_bad_streaming_request_is_400_not_stream(server):
    body = {"messages": USER, "stream": True, "temperature": -1}
    response = requests.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=30)
    assert_error(response, 400, "temperature")


def test_malformed_json_is_400(server):
    response = requests.post(f"{server.base_url}/v1/chat/completions", data='{"messages": [',
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(response, 400, "not valid JSON")


def test_unknown_route_is_404(server):
    response = requests.get(f"{server.base_url}/v1/nothing", timeout=30)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_unknown_model_is_404(server):
    response = requests.get(f"{server.base_url}/v1/models/gpt-4", timeout=30)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "secret-key"}],
                         ids=["missing", "wrong key", "no Bearer"])
def test_api_key_required(api_key_server, headers):
    for method, path in [("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
                         ("GET", "/get_model_info"), ("POST", "/v1/tokenize")]:
        response = requests.request(method, f"{api_key_server.base_url}{path}", headers=headers,
                                    json={"messages": USER}, timeout=30)
        assert response.status_code == 401, (path, response.text)
        assert response.json() == {"error": "Unauthorized"}


def test_api_key_accepted(api_key_server):
    assert requests.get(f"{api_key_server.base_url}/health", timeout=30).status_code == 200
    headers = {"Authorization": "Bearer secret-key"}
    response = requests.get(f"{api_key_server.base_url}/v1/models", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    response = requests.post(f"{api_key_server.base_url}/v1/chat/completions", headers=headers,
                             json={"messages": USER, "max_tokens": 2}, timeout=60)
    assert response.status_code == 200, response.text
