"""rendered_text parts: the server renders text into Glyph's pages, encodes them as
images, and reports the image tokens used and the text tokens they replaced."""

import re
import subprocess

import openai
import pytest
import requests

from conftest import TINY_MODEL, binary

WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly judge "
         "boxing matches near the old harbour").split()


def document(word_count):
    """Deterministic prose of word_count words in paragraphs of 60 words."""
    words = [WORDS[(i * 7 + i // 13) % len(WORDS)] for i in range(word_count)]
    paragraphs = [" ".join(words[i:i + 60]) + "." for i in range(0, word_count, 60)]
    return "\n".join(paragraphs)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused")


def render_stats(tmp_path, text, *flags):
    """Pages and image tokens as `glyph render --stats` reports them for text."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "input.txt"
    source.write_text(text)
    result = subprocess.run(
        [str(binary("glyph")), "render", "--input", str(source), "--out", str(tmp_path / "pages"),
         "--model-path", str(TINY_MODEL), "--stats", *flags],
        capture_output=True, text=True, timeout=120, check=True)
    pages = int(re.search(r"^pages: (\d+)$", result.stdout, re.M).group(1))
    tokens = int(re.search(r"^image tokens: (\d+)$", result.stdout, re.M).group(1))
    return pages, tokens


def test_rendered_request_reports_image_and_text_tokens(server, client, tmp_path):
    text = document(4000)
    question = {"type": "text", "text": "What does the fox do?"}
    rendered = client.chat.completions.create(
        model="default", max_tokens=4, temperature=0,
        messages=[{"role": "user", "content": [
            {"type": "rendered_text", "rendered_text": {"text": text}}, question]}])
    question_only = client.chat.completions.create(
        model="default", max_tokens=1, messages=[{"role": "user", "content": [question]}])

    pages, page_tokens = render_stats(tmp_path, text)
    details = rendered.usage.prompt_tokens_details
    assert details.image_tokens == page_tokens
    text_tokens = requests.post(f"{server.base_url}/v1/tokenize", json={"prompt": text},
                                timeout=30).json()["tokens"]
    assert details.rendered_text_tokens == len(text_tokens)
    # Each page adds <|begin_of_image|>, its placeholders and <|end_of_image|>.
    assert rendered.usage.prompt_tokens == (question_only.usage.prompt_tokens + page_tokens +
                                            2 * pages)
    assert pages >= 2
    assert details.rendered_text_tokens > details.image_tokens


def test_dpi_changes_the_pages(client, tmp_path):
    text = document(400)
    usage = {}
    for dpi in (72, 96):
        reply = client.chat.completions.create(
            model="default", max_tokens=1,
            messages=[{"role": "user", "content": [
                {"type": "rendered_text", "rendered_text": {"text": text, "dpi": dpi}}]}])
        usage[dpi] = reply.usage.prompt_tokens_details.image_tokens
    assert usage[72] == render_stats(tmp_path / "72", text)[1]
    assert usage[96] == render_stats(tmp_path / "96", text, "--dpi", "96")[1]
    assert usage[96] > usage[72]


@pytest.mark.parametrize("message,fragment", [
    ({"role": "user", "content": [{"type": "rendered_text",
                                   "rendered_text": {"text": document(20000)}}]},
     "pages of more than"),
    ({"role": "user", "content": [{"type": "rendered_text",
                                   "rendered_text": {"text": "a\n" * 40_000}}]},
     "pages of at least"),
    ({"role": "user", "content": [{"type": "rendered_text",
                                   "rendered_text": {"text": "\u200b\u00ad\u3000\u00a0"}}]},
     "no visible characters"),
    ({"role": "user", "content": [{"type": "rendered_text",
                                   "rendered_text": {"text": "word " * 900_000}}]},
     "too long for the 4096 tokens left in the context"),
    ({"role": "system", "content": [{"type": "rendered_text", "rendered_text": {"text": "x"}}]},
     "only user messages may carry text to render"),
    ({"role": "user", "content": [{"type": "rendered_text", "rendered_text": {"text": ""}}]},
     "rendered_text.text is empty"),
    ({"role": "user", "content": [{"type": "rendered_text", "rendered_text": {}}]},
     "rendered_text.text is missing"),
    ({"role": "user", "content": [{"type": "rendered_text",
                                   "rendered_text": {"text": "x", "dpi": 1000}}]},
     "use a value from 36 to 300"),
])
def test_rendered_text_rejections(server, message, fragment):
    body = {"messages": [message], "max_tokens": 1}
    response = requests.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["message"]
