"""The two thinking-mode examples of SGLang's Glyph page, run unchanged against glyph serve.

The code below is the page's, verbatim; only its base_url is replaced with the test
server's address before it runs in a fresh Python process.
"""

import subprocess
import sys

PAGE_BASE_URL = 'base_url="http://localhost:30000/v1"'

STREAMING_EXAMPLE = '''
from openai import OpenAI

client = OpenAI(
    base_url="http://localhost:30000/v1",
    api_key="EMPTY"
)

# Enable streaming to see the thinking process in real-time
response = client.chat.completions.create(
    model="zai-org/Glyph",
    messages=[
        {"role": "user", "content": "Solve this problem step by step: What is 15% of 240?"}
    ],
    temperature=0.7,
    max_tokens=2048,
    stream=True
)

# Process the stream
has_thinking = False
has_answer = False
thinking_started = False

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

        # Print answer content
        if delta.content:
            # Close thinking section and add content header
            if has_thinking and not has_answer:
                print("\\n=============== Content =================", flush=True)
                has_answer = True
            print(delta.content, end="", flush=True)

print()
'''

DISABLE_THINKING_EXAMPLE = '''
from openai import OpenAI

client = OpenAI(
    base_url="http://localhost:30000/v1",
    api_key="EMPTY"
)

response = client.chat.completions.create(
    model="zai-org/Glyph",
    messages=[{"role": "user", "content": "What is the capital of France?"}],
    extra_body={"chat_template_kwargs": {"enable_thinking": False}}
)
'''


def run_example(code: str, base_url: str) -> subprocess.CompletedProcess:
    assert PAGE_BASE_URL in code
    code = code.replace(PAGE_BASE_URL, f'base_url="{base_url}/v1"')
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_streaming_thinking_example(server):
    result = run_example(STREAMING_EXAMPLE, server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_disable_thinking_example(server):
    result = run_example(DISABLE_THINKING_EXAMPLE, server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
