"""Tool calls through the whole server: SGLang's Glyph page examples and the fixture table.

The page's two tool-calling examples run unchanged, apart from their base_url, against
`glyph serve --tool-call-parser glm45` on the tiny random model. The fixture table feeds every
model output of tests/data/fixtures/tool_call_cases.json through glyph_test_server's
"_scripted_output" seam, cut into pieces that are tokenized separately, and compares the
streamed and the non-streamed reply with the fixture's parse.
"""

import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

PAGE_BASE_URL = 'base_url="http://localhost:30000/v1"'

# The "Python Example (with Thinking Process)" of the page's section 4.2.2, verbatim.
STREAMING_EXAMPLE = '''
from openai import OpenAI

client = OpenAI(
    base_url="http://localhost:30000/v1",
    api_key="EMPTY"
)

# Define available tools
tools = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city name"
                    },
                    "unit": {
                        "type": "string",
                        "enum": ["celsius", "fahrenheit"],
                        "description": "Temperature unit"
                    }
                },
                "required": ["location"]
            }
        }
    }
]

# Make request with streaming to see thinking process
response = client.chat.completions.create(
    model="zai-org/Glyph",
    messages=[
        {"role": "user", "content": "What's the weather in Beijing?"}
    ],
    tools=tools,
    temperature=0.7,
    stream=True
)

# Process streaming response
thinking_started = False
has_thinking = False
tool_calls_accumulator = {}

for chunk in response:
    if chunk.choices and len(chunk.choices) > 0:
        delta = chunk.choices[0].delta

        # Print thinking process
        if hasattr(delta, 'reasoning_content') and delta.reasoning_content:
            if not thinking_started:
                print("=============== Thinking =================", flush=True)
                thinking_started = True
            has_thinking = True
            print(delta.reasoning_content, end="", flush=True)

        # Accumulate tool calls
        if hasattr(delta, 'tool_calls') and delta.tool_calls:
            # Close thinking section if needed
            if has_thinking and thinking_started:
                print("\\n=============== Content =================\\n", flush=True)
                thinking_started = False

            for tool_call in delta.tool_calls:
                index = tool_call.index
                if index not in tool_calls_accumulator:
                    tool_calls_accumulator[index] = {
                        'name': None,
                        'arguments': ''
                    }

                if tool_call.function:
                    if tool_call.function.name:
                        tool_calls_accumulator[index]['name'] = tool_call.function.name
                    if tool_call.function.arguments:
                        tool_calls_accumulator[index]['arguments'] += tool_call.function.arguments

        # Print content
        if delta.content:
            print(delta.content, end="", flush=True)

# Print accumulated tool calls
for index, tool_call in sorted(tool_calls_accumulator.items()):
    print(f"Tool Call: {tool_call['name']}")
    print(f"   Arguments: {tool_call['arguments']}")

print()
'''

# The page's "Handling Tool Call Results" example, verbatim. It continues the example above,
# which defines `client`; CLIENT_SETUP is those lines of it.
TOOL_RESULT_EXAMPLE = '''
# After getting the tool call, execute the function
def get_weather(location, unit="celsius"):
    # Your actual weather API call here
    return f"The weather in {location} is 22°{unit[0].upper()} and sunny."

# Send tool result back to the model
messages = [
    {"role": "user", "content": "What's the weather in Beijing?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{
            "id": "call_123",
            "type": "function",
            "function": {
                "name": "get_weather",
                "arguments": '{"location": "Beijing", "unit": "celsius"}'
            }
        }]
    },
    {
        "role": "tool",
        "tool_call_id": "call_123",
        "content": get_weather("Beijing", "celsius")
    }
]

final_response = client.chat.completions.create(
    model="zai-org/Glyph",
    messages=messages,
    temperature=0.7
)

print(final_response.choices[0].message.content)
# Output: "The weather in Beijing is currently 22°C and sunny."
'''

CLIENT_SETUP = '''
from openai import OpenAI

client = OpenAI(
    base_url="http://localhost:30000/v1",
    api_key="EMPTY"
)
'''

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = json.loads((REPO_ROOT / "tests" / "data" / "fixtures" / "tool_call_cases.json")
                     .read_text(encoding="utf-8"))
CALL_ID = re.compile(r"call_[0-9a-f]{24}")

# Outputs longer than this many characters get a sample of their two-piece splits (see
# two_piece_split_points), so the table stays near a minute on two CPU cores.
MAX_TWO_PIECE_SPLITS = 32
# Concurrent requests of the table; the engine batches them.
TABLE_WORKERS = 16


def run_example(code: str, base_url: str) -> subprocess.CompletedProcess:
    assert PAGE_BASE_URL in code
    code = code.replace(PAGE_BASE_URL, f'base_url="{base_url}/v1"')
    # Without max_tokens the random model writes until the context (4096 tokens) is full.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)


def test_streaming_tool_call_example(tool_call_server):
    result = run_example(STREAMING_EXAMPLE, tool_call_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_streaming_example_with_required_prints_call(tool_call_server):
    """tool_choice "required" makes even the random model's reply a valid call."""
    code = STREAMING_EXAMPLE.replace("    tools=tools,\n",
                                     "    tools=tools,\n    tool_choice=\"required\",\n")
    assert code != STREAMING_EXAMPLE
    result = run_example(code, tool_call_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    lines = result.stdout.splitlines()
    assert "Tool Call: get_weather" in lines, result.stdout[:2000]
    arguments_line = lines[lines.index("Tool Call: get_weather") + 1]
    assert arguments_line.startswith("   Arguments: "), arguments_line[:200]
    arguments = json.loads(arguments_line[len("   Arguments: "):])
    # The grammar writes the required location; unit, if written, is one of its enum values.
    assert isinstance(arguments["location"], str)
    assert set(arguments) <= {"location", "unit"}
    assert arguments.get("unit", "celsius") in ("celsius", "fahrenheit")


def test_tool_result_example(tool_call_server):
    result = run_example(CLIENT_SETUP + TOOL_RESULT_EXAMPLE, tool_call_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() != ""


# --- Replies read back over HTTP, streamed and not. ---

_local = threading.local()


def session() -> requests.Session:
    """One session per thread: requests.Session is not thread-safe."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def chat_body(stream, tools=None, **fields):
    body = {
        "model": "zai-org/Glyph",
        "messages": [{"role": "user", "content": "What's the weather in Beijing?"}],
        "tools": FIXTURE["tools"] if tools is None else tools,
        "stream": stream,
    }
    body.update(fields)
    return body


def post(base_url, body):
    return session().post(f"{base_url}/v1/chat/completions", json=body, timeout=120,
                          stream=body.get("stream", False))


def non_streamed(base_url, **fields):
    """Returns (reasoning_content, content, [(name, arguments)], finish_reason)."""
    response = post(base_url, chat_body(False, **fields))
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    message = choice["message"]
    calls = []
    for index, call in enumerate(message["tool_calls"] or []):
        assert CALL_ID.fullmatch(call["id"]), call
        assert call["index"] == index, call
        assert call["type"] == "function", call
        calls.append((call["function"]["name"], call["function"]["arguments"]))
    if calls:
        assert choice["matched_stop"] is None, choice
    return message["reasoning_content"], message["content"], calls, choice["finish_reason"]


def streamed(base_url, **fields):
    """The same tuple, put together from the SSE chunks, checking their tool-call shape."""
    response = post(base_url, chat_body(True, **fields))
    assert response.status_code == 200, response.text
    reasoning, content, calls, finish_reason, done = "", "", [], None, False
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
        for call in delta["tool_calls"] or []:
            function = call["function"]
            if call["index"] == len(calls):
                # A call's first delta: its id, its name and no arguments yet.
                assert CALL_ID.fullmatch(call["id"]), call
                assert function["arguments"] == "", call
                calls.append([function["name"], ""])
            else:
                assert call["index"] == len(calls) - 1, call
                assert call["id"] is None, call
                assert function["name"] is None, call
                calls[-1][1] += function["arguments"]
        if choice["finish_reason"]:
            finish_reason = choice["finish_reason"]
            if finish_reason == "tool_calls":
                assert choice["matched_stop"] is None, choice
    assert done
    return reasoning or None, content or None, [tuple(c) for c in calls], finish_reason


def spread(items, count):
    """count items of the list, evenly spaced, first and last included."""
    if len(items) <= count:
        return list(items)
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def two_piece_split_points(text):
    """Where to cut text in two: everywhere for short texts. Longer ones get
    MAX_TWO_PIECE_SPLITS points, half of them beside a '<' or '>' (inside and around the
    markup tags), the rest evenly spread over the other positions."""
    points = list(range(1, len(text)))
    if len(points) <= MAX_TWO_PIECE_SPLITS:
        return points
    at_markup = [i for i in points if text[i - 1] in "<>" or text[i] in "<>"]
    chosen = set(spread(at_markup, MAX_TWO_PIECE_SPLITS // 2))
    others = [i for i in points if i not in chosen]
    chosen.update(spread(others, MAX_TWO_PIECE_SPLITS - len(chosen)))
    return sorted(chosen)


def chunkings(text):
    """The whole text, the two-piece splits, and one piece per character."""
    result = [[text]]
    result += [[text[:i], text[i:]] for i in two_piece_split_points(text)]
    if len(text) > 1:
        result.append(list(text))
    return result


def check_reply(base_url, pieces, expected):
    """Returns a description of each way the replies to pieces differ from expected."""
    problems = []
    for mode, read in (("non-streamed", non_streamed), ("streamed", streamed)):
        try:
            got = read(base_url, _scripted_output=pieces)
        except AssertionError as error:
            problems.append(f"{mode} {pieces!r}: {error}")
            continue
        if got != expected:
            problems.append(f"{mode} {pieces!r}:\n  got      {got!r}\n  expected {expected!r}")
    return problems


def run_table(base_url, jobs):
    """jobs: (pieces, expected) pairs, sent TABLE_WORKERS at a time."""
    with ThreadPoolExecutor(TABLE_WORKERS) as pool:
        problems = [p for found in pool.map(lambda job: check_reply(base_url, *job), jobs)
                    for p in found]
    assert not problems, f"{len(problems)} replies differ; the first ones:\n" + \
        "\n".join(problems[:5])


def expected_reply(content, calls, reasoning=None):
    return (reasoning, content or None, [tuple(call) for call in calls],
            "tool_calls" if calls else "stop")


def test_fixture_cases_over_http(tool_call_test_server):
    jobs = []
    for case in FIXTURE["cases"]:
        expected = expected_reply(case["content"],
                                  [(c["name"], c["arguments"]) for c in case["calls"]])
        jobs += [(pieces, expected) for pieces in chunkings(case["output"])]
    run_table(tool_call_test_server.base_url, jobs)


WEATHER_CALL = ("<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Beijing"
                "</arg_value>\n</tool_call>")


def test_reasoning_before_calls_over_http(tool_call_test_server):
    cases = [
        ("<think>Need the weather.</think>\n" + WEATHER_CALL, "Need the weather."),
        # A call that starts inside unfinished reasoning ends the reasoning.
        ("<think>Need the weather.\n" + WEATHER_CALL, "Need the weather."),
    ]
    jobs = []
    for text, reasoning in cases:
        expected = expected_reply("", [("get_weather", '{"location": "Beijing"}')], reasoning)
        jobs += [(pieces, expected) for pieces in chunkings(text)]
    run_table(tool_call_test_server.base_url, jobs)


def test_cut_off_call_keeps_length(tool_call_test_server):
    url = tool_call_test_server.base_url
    pieces = ["<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Bei", "jing"]
    expected = (None, None, [("get_weather", '{"location": "Bei"}')], "length")
    count = session().post(f"{url}/v1/tokenize", json={"prompt": pieces[0]}, timeout=30).json()
    fields = {"_scripted_output": pieces, "max_tokens": count["count"]}
    assert non_streamed(url, **fields) == expected
    assert streamed(url, **fields) == expected


def test_tool_choice_none_keeps_markup_as_content(tool_call_test_server):
    url = tool_call_test_server.base_url
    expected = (None, WEATHER_CALL, [], "stop")
    assert non_streamed(url, tool_choice="none", _scripted_output=[WEATHER_CALL]) == expected
    assert streamed(url, tool_choice="none", _scripted_output=[WEATHER_CALL]) == expected

    # The template does not see the tools either.
    messages = [{"role": "user", "content": "Hi"}]
    def prompt_tokens(**fields):
        response = session().post(f"{url}/v1/tokenize", json={"messages": messages, **fields},
                                  timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["tokens"]
    assert prompt_tokens(tools=FIXTURE["tools"], tool_choice="none") == prompt_tokens()
    assert prompt_tokens(tools=FIXTURE["tools"]) != prompt_tokens()


# --- tool_choice "required" and named tools, enforced on the random model. ---

UNIT_TOOL = {"type": "function", "function": {
    "name": "set_unit", "description": "Set the temperature unit",
    "parameters": {"type": "object", "properties": {
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "exact": {"type": "boolean"}}, "required": ["unit", "exact"]}}}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Now"}}


@pytest.mark.parametrize("read", [non_streamed, streamed], ids=["non-streamed", "streamed"])
def test_required_call_from_random_model(tool_call_server, read):
    reasoning, content, calls, finish_reason = read(
        tool_call_server.base_url, tools=[UNIT_TOOL], tool_choice="required",
        parallel_tool_calls=False, temperature=1.0, max_tokens=200)
    assert finish_reason == "tool_calls"
    assert content is None
    assert reasoning is None
    assert len(calls) == 1
    name, arguments = calls[0]
    assert name == "set_unit"
    parsed = json.loads(arguments)
    assert set(parsed) == {"unit", "exact"}
    assert parsed["unit"] in ("celsius", "fahrenheit")
    assert isinstance(parsed["exact"], bool)


@pytest.mark.parametrize("read", [non_streamed, streamed], ids=["non-streamed", "streamed"])
def test_named_tool_from_random_model(tool_call_server, read):
    named = {"type": "function", "function": {"name": "get_time"}}
    reply = read(tool_call_server.base_url, tools=[UNIT_TOOL, TIME_TOOL], tool_choice=named,
                 parallel_tool_calls=False, max_tokens=100)
    assert reply == (None, None, [("get_time", "{}")], "tool_calls")


# --- Validation. ---

def rejection(base_url, body):
    response = session().post(f"{base_url}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["object"] == "error", error
    assert error["code"] == 400, error
    return error["message"]


def test_invalid_tool_requests_are_400(tool_call_test_server):
    url = tool_call_test_server.base_url
    messages = [{"role": "user", "content": "Hi"}]
    assert rejection(url, {"messages": messages, "tool_choice": "required"}) == \
        "Tools cannot be empty if tool choice is set to required."
    assert rejection(url, {"messages": messages, "tools": [TIME_TOOL], "tool_choice": {
        "type": "function", "function": {"name": "get_weather"}}}) == \
        "Tool 'get_weather' not found in tools list."
    bad_schema = {"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"type": "text"}}}}}
    assert rejection(url, {"messages": messages, "tools": [bad_schema]}).startswith(
        "Tool 0 function has invalid 'parameters' schema")
    bad_name = {"type": "function", "function": {"name": "get\ntime"}}
    assert "no tool name can be written" in rejection(
        url, {"messages": messages, "tools": [bad_name], "tool_choice": "required"})


def test_required_without_tool_call_parser_is_400(test_server):
    message = rejection(test_server.base_url, {
        "messages": [{"role": "user", "content": "Hi"}], "tools": [TIME_TOOL],
        "tool_choice": "required"})
    assert "--tool-call-parser glm45" in message


# --- SGLang's parser routes. ---

def test_parse_function_call_matches_fixture(tool_call_test_server):
    url = tool_call_test_server.base_url
    for case in FIXTURE["cases"]:
        response = session().post(f"{url}/parse_function_call", json={
            "text": case["output"], "tool_call_parser": "glm45", "tools": FIXTURE["tools"]},
            timeout=30)
        assert response.status_code == 200, response.text
        expected_calls = [{"tool_index": i, "name": c["name"], "parameters": c["arguments"]}
                          for i, c in enumerate(case["calls"])]
        assert response.json() == {"normal_text": case["content"], "calls": expected_calls}, \
            case["name"]


def test_parse_function_call_errors(tool_call_test_server):
    url = f"{tool_call_test_server.base_url}/parse_function_call"
    def message(body):
        response = session().post(url, json=body, timeout=30)
        assert response.status_code == 400, response.text
        return response.json()["message"]
    assert "text is missing" in message({"tool_call_parser": "glm45", "tools": []})
    assert "tools is missing" in message({"text": "x", "tool_call_parser": "glm45"})
    assert 'tool_call_parser "qwen25" is not supported' in message(
        {"text": "x", "tool_call_parser": "qwen25", "tools": []})
    # Without tool_call_parser the server's own (--tool-call-parser glm45) is used.
    response = session().post(url, json={"text": "<tool_call>get_time\n</tool_call>",
                                         "tools": [TIME_TOOL]}, timeout=30)
    assert response.json() == {"normal_text": "", "calls": [
        {"tool_index": 0, "name": "get_time", "parameters": "{}"}]}


def test_separate_reasoning(tool_call_test_server):
    url = f"{tool_call_test_server.base_url}/separate_reasoning"
    def split(text, parser="glm45"):
        response = session().post(url, json={"text": text, "reasoning_parser": parser},
                                  timeout=30)
        return response.status_code, response.json()
    assert split("<think>\nLet me see.\n</think>\n\n36") == \
        (200, {"reasoning_text": "Let me see.", "text": "36"})
    assert split("Paris.") == (200, {"reasoning_text": "", "text": "Paris."})
    # A whole text whose reasoning never closes is all reasoning.
    assert split("<think>Still thinking") == (200, {"reasoning_text": "Still thinking",
                                                    "text": ""})
    status, error = split("x", parser="deepseek-r1")
    assert status == 400
    assert 'reasoning_parser "deepseek-r1" is not supported' in error["message"]
