"""Images through the server: image_url parts, image_data, the token counts the
Glm4v processor's smart resize predicts, the vision cache, and malformed images."""

import base64
import http.server
import math
import struct
import threading
import time
import zlib

import openai
import pytest
import requests

from conftest import RunningServer

# preprocessor_config.json of the tiny model (Glyph's values).
PATCH, MERGE, TEMPORAL = 14, 2, 2
MIN_PIXELS, MAX_PIXELS = 12544, 47040000


def png_bytes(width, height, seed=0, declared_size=None, padding=0, padding_level=0):
    """An 8-bit RGB PNG with a seeded pattern.

    declared_size overrides the IHDR size. padding adds that many zero bytes after the last
    row, deflated at padding_level."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # Filter type None.
        for x in range(width):
            rows += bytes(((x * 7 + seed) % 256, (y * 5 + 3 * seed) % 256, (x * y + seed) % 256))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr_width, ihdr_height = declared_size or (width, height)
    ihdr = struct.pack(">IIBBBBB", ihdr_width, ihdr_height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(bytes(rows) + bytes(padding),
                                         padding_level if padding else -1)) +
            chunk(b"IEND", b""))


def grey_png(width, height):
    """A mid-grey 8-bit greyscale PNG, quick to make at any size."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = (b"\0" + b"\x80" * width) * height
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) +
            chunk(b"IEND", b""))


def data_url(data, mime="image/png"):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def image_tokens(width, height):
    """Placeholder tokens of one image: transformers' smart_resize for two temporal
    frames, then one token per 28x28 block."""
    factor = PATCH * MERGE
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if TEMPORAL * h_bar * w_bar > MAX_PIXELS:
        beta = math.sqrt(TEMPORAL * height * width / MAX_PIXELS)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif TEMPORAL * h_bar * w_bar < MIN_PIXELS:
        beta = math.sqrt(MIN_PIXELS / (TEMPORAL * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return (h_bar // factor) * (w_bar // factor)


def user_message(parts):
    return [{"role": "user", "content": parts}]


def image_part(url):
    return {"type": "image_url", "image_url": {"url": url}}


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused")


def test_two_base64_images_count_as_smart_resize_predicts(client):
    sizes = [(300, 200), (90, 150)]
    question = {"type": "text", "text": "What differs between these two pictures?"}
    parts = [image_part(data_url(png_bytes(w, h, seed=i))) for i, (w, h) in enumerate(sizes)]

    with_images = client.chat.completions.create(
        model="default", messages=user_message(parts + [question]), max_tokens=4, temperature=0)
    text_only = client.chat.completions.create(
        model="default", messages=user_message([question]), max_tokens=1, temperature=0)

    predicted = [image_tokens(w, h) for w, h in sizes]
    assert predicted == [77, 15]
    # Each image adds <|begin_of_image|>, its placeholders and <|end_of_image|>.
    expected = text_only.usage.prompt_tokens + sum(n + 2 for n in predicted)
    assert with_images.usage.prompt_tokens == expected
    assert with_images.usage.prompt_tokens_details.image_tokens == sum(predicted)
    assert with_images.choices[0].finish_reason in ("length", "stop")


def generate(server, **body):
    return requests.post(f"{server.base_url}/generate", json=body, timeout=60)


PLACEHOLDER = "<|begin_of_image|><|image|><|end_of_image|>"


def test_image_data_kv_sharing(server):
    text = "[gMASK]<sop><|user|>\n" + PLACEHOLDER + "Describe the page.<|assistant|>\n"
    first_image = base64.b64encode(png_bytes(120, 120, seed=11)).decode()
    other_image = base64.b64encode(png_bytes(120, 120, seed=12)).decode()
    params = {"max_new_tokens": 3, "temperature": 0}

    first = generate(server, text=text, image_data=first_image, sampling_params=params).json()
    again = generate(server, text=text, image_data=[first_image], sampling_params=params).json()
    other = generate(server, text=text, image_data=other_image, sampling_params=params).json()

    tokens = first["meta_info"]["prompt_tokens"]
    assert tokens == again["meta_info"]["prompt_tokens"] == other["meta_info"]["prompt_tokens"]
    # The same image reuses the prompt's KV; another image only the text before it.
    assert again["meta_info"]["cached_tokens"] >= tokens - 16
    assert other["meta_info"]["cached_tokens"] < 16
    assert again["output_ids"] == first["output_ids"]


def test_local_files_need_the_allowed_directory(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    (folder / "page.png").write_bytes(png_bytes(64, 64))
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.png"
    outside.write_bytes(png_bytes(64, 64))
    running = RunningServer("glyph", ["--skip-server-warmup",
                                      "--allowed-local-media-path", str(folder)])
    try:
        def ask(url):
            return requests.post(f"{running.base_url}/v1/chat/completions", timeout=60, json={
                "messages": user_message([image_part(url), {"type": "text", "text": "Hi"}]),
                "max_tokens": 1})

        assert ask(str(folder / "page.png")).status_code == 200
        assert ask("file://" + str(folder / "page.png")).status_code == 200
        assert ask("page.png").status_code == 200
        for url in (str(outside), str(folder / ".." / outside.parent.name / "secret.png")):
            refused = ask(url)
            assert refused.status_code == 400
            assert "outside --allowed-local-media-path" in refused.json()["message"]
    finally:
        running.stop()


FETCH_TIMEOUT_S = 3
CREDENTIALS = "alice:s3cret"


class ImageHandler(http.server.BaseHTTPRequestHandler):
    """Serves one PNG at /page.png (also at /private.png, behind HTTP basic auth with
    CREDENTIALS), a redirect to it at /moved, 404 for unknown paths, and misbehaving
    responses: an endless body, endless headers, an endless header line, a Content-Length
    above the limit with no body, a body sent one byte at a time, no response at all, a
    connection closed mid-body and one closed before any reply."""

    # Set when the test ends, so that handlers holding a connection open can return.
    release = threading.Event()

    def send_png(self):
        body = png_bytes(64, 64)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            self.respond()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def respond(self):
        if self.path == "/page.png":
            self.send_png()
        elif self.path == "/private.png":
            expected = "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
            if self.headers.get("Authorization") == expected:
                self.send_png()
            else:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="images"')
                self.send_header("Content-Length", "0")
                self.end_headers()
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/page.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            while True:
                self.wfile.write(b"\0" * 65536)
        elif self.path == "/endless-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while True:
                self.wfile.write(b"X-Filler: " + b"a" * 1000 + b"\r\n")
        elif self.path == "/endless-header-line":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Filler: ")
            while True:
                self.wfile.write(b"a" * 65536)
        elif self.path == "/declared-too-large":
            self.send_response(200)
            self.send_header("Content-Length", str(5 << 20))
            self.end_headers()
            self.release.wait(30)
        elif self.path == "/drip":
            # Each byte arrives well inside any per-read timeout, so only a deadline on the
            # whole exchange ends the fetch.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                if self.release.wait(0.25):
                    break
                self.wfile.write(b"\0")
        elif self.path == "/silent":
            self.release.wait(30)
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"\0" * 1000)
            self.close_connection = True
        elif self.path == "/hangup":
            self.close_connection = True
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


def test_remote_url_limits():
    ImageHandler.release.clear()
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ImageHandler)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{origin.server_address[1]}"
    base = f"http://{host}"
    running = RunningServer("glyph", ["--skip-server-warmup", "--allow-remote-media",
                                      "--max-image-mb", "1",
                                      "--media-fetch-timeout", str(FETCH_TIMEOUT_S)])
    try:
        def ask(url):
            return requests.post(f"{running.base_url}/v1/chat/completions", timeout=60, json={
                "messages": user_message([image_part(url), {"type": "text", "text": "Hi"}]),
                "max_tokens": 1})

        def refusal(url):
            """The 400 message for url and the seconds the request took."""
            start = time.monotonic()
            response = ask(url)
            elapsed = time.monotonic() - start
            assert response.status_code == 400, response.text
            return response.json()["message"], elapsed

        assert ask(f"{base}/page.png").status_code == 200
        assert ask(f"HTTP://{host}/page.png").status_code == 200
        assert ask(f"http://{CREDENTIALS}@{host}/private.png").status_code == 200

        message, _ = refusal(f"http://alice:wrong-password@{host}/private.png")
        assert "HTTP 401" in message
        assert "wrong-password" not in message
        assert f"fetching {base}/private.png returned" in message

        message, _ = refusal(f"{base}/missing.png")
        assert "HTTP 404" in message

        message, _ = refusal(f"{base}/moved")
        assert f"HTTP 301, a redirect to {base}/page.png" in message
        assert "redirects are not followed" in message

        message, _ = refusal(f"{base}/endless")
        assert "above the limit of 1048576 bytes" in message

        message, elapsed = refusal(f"{base}/declared-too-large")
        assert "the image is 5242880 bytes, above the limit of 1048576 bytes" in message
        assert elapsed < 1

        message, elapsed = refusal(f"{base}/endless-headers")
        assert "the response headers exceed the limit of 65536 bytes" in message
        assert elapsed < 1

        message, elapsed = refusal(f"{base}/endless-header-line")
        assert "the response headers exceed the limit of 65536 bytes" in message
        assert elapsed < 1

        message, elapsed = refusal(f"{base}/silent")
        assert f"took longer than {FETCH_TIMEOUT_S} s" in message
        assert FETCH_TIMEOUT_S - 0.5 < elapsed < FETCH_TIMEOUT_S + 1

        message, elapsed = refusal(f"{base}/drip")
        assert f"took longer than {FETCH_TIMEOUT_S} s" in message
        assert FETCH_TIMEOUT_S - 0.5 < elapsed < FETCH_TIMEOUT_S + 1

        message, elapsed = refusal(f"{base}/cut")
        assert "could not fetch" in message
        assert "closed the connection after 1000 of 100000 bytes" in message
        assert "took longer" not in message
        assert elapsed < 1

        message, elapsed = refusal(f"{base}/hangup")
        assert "could not fetch" in message
        assert "took longer" not in message
        assert elapsed < 1
    finally:
        ImageHandler.release.set()
        running.stop()
        origin.shutdown()


def valid_png():
    return png_bytes(64, 64)


MALFORMED = [
    ("empty", "data:image/png;base64,", "image data is empty"),
    ("not base64", "data:image/png;base64,@@@@", "not valid base64"),
    ("not an image", data_url(b"hello, this is plain text"), "format not recognised"),
    ("truncated PNG", data_url(valid_png()[:60]), "truncated"),
    ("corrupt PNG", data_url(valid_png()[:40] + b"\0" * 30 + valid_png()[70:]), "PNG"),
    ("decompression bomb", data_url(png_bytes(8, 8, declared_size=(100000, 100000))),
     "above the limit of 89478485"),
    ("extreme aspect ratio", data_url(png_bytes(6000, 29)), "aspect ratio 206"),
    ("too small", data_url(png_bytes(1, 300)), "at least 28 pixels"),
    ("stored padding", data_url(png_bytes(32, 32, padding=400_000)),
     "the most a 32x32 image needs"),
    # 200 MB of zeros deflate to about 200 KB.
    ("deflated padding", data_url(png_bytes(32, 32, padding=200_000_000, padding_level=9)),
     "the most a 32x32 image needs"),
    # 1988 x 1988 after smart resize: 71 * 71 tokens. The valid image before it takes 9 of
    # the 4096-token context.
    ("more tokens than the context", data_url(grey_png(2000, 2000)),
     "needs 5041 tokens, more than the 4087 tokens left in the context"),
    # Rejected from the header, before the (truncated) pixel data is read.
    ("header too large for the context", data_url(png_bytes(8, 8, declared_size=(2000, 2000))),
     "needs 5041 tokens, more than the 4087 tokens left in the context"),
    ("local path without the flag", "/etc/hostname", "local image files are disabled"),
    ("URL without the flag", "http://127.0.0.1:9/page.png", "image URLs are disabled"),
    ("unknown scheme", "ftp://127.0.0.1/page.png", "not supported"),
]


@pytest.mark.parametrize("url,fragment", [(m[1], m[2]) for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_images_are_400_naming_the_image(server, url, fragment):
    response = requests.post(f"{server.base_url}/v1/chat/completions", timeout=60, json={
        "messages": user_message([{"type": "text", "text": "Look:"},
                                  image_part(data_url(valid_png())), image_part(url)]),
        "max_tokens": 1})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "image 1 (messages[0].content[2])" in message, message
    assert fragment in message, message


def test_server_is_healthy_after_malformed_images(server, client):
    for _, url, _ in MALFORMED:
        requests.post(f"{server.base_url}/v1/chat/completions", timeout=60, json={
            "messages": user_message([image_part(url)]), "max_tokens": 1})
    assert requests.get(f"{server.base_url}/health_generate", timeout=60).status_code == 200
    reply = client.chat.completions.create(
        model="default", max_tokens=2,
        messages=user_message([image_part(data_url(valid_png())),
                               {"type": "text", "text": "Hi"}]))
    assert reply.usage.prompt_tokens_details.image_tokens == image_tokens(64, 64)


def test_placeholders_must_match_image_data(server):
    response = generate(server, text="No placeholder here.", image_data=data_url(valid_png()))
    assert response.status_code == 400
    assert "1 image(s)" in response.json()["message"]
    batch = generate(server, text=[PLACEHOLDER, PLACEHOLDER], image_data=data_url(valid_png()))
    assert batch.status_code == 400
    assert "one prompt per request" in batch.json()["message"]
