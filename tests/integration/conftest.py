"""Fixtures that start glyph servers on free local ports for the integration tests.

The binaries come from the build directory in GLYPH_BUILD_DIR (default: build/ at the
repository root). Every server binds 127.0.0.1 and is stopped when the session ends.
"""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_MODEL = REPO_ROOT / "tests" / "data" / "tiny-glyph"
STARTUP_TIMEOUT_S = 120


def build_dir() -> Path:
    path = Path(os.environ.get("GLYPH_BUILD_DIR", "build"))
    return path if path.is_absolute() else REPO_ROOT / path


def binary(name: str) -> Path:
    path = build_dir() / name
    if not path.exists():
        pytest.fail(f"{path} does not exist; build it first (cmake --build {build_dir()} --target {name})")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    """A glyph process serving on 127.0.0.1:port, with its log in a temporary file."""

    def __init__(self, binary_name: str, extra_args: list[str]):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="glyph-server-", suffix=".log", delete=False)
        command = [
            str(binary(binary_name)), "serve",
            "--model-path", str(TINY_MODEL),
            "--reasoning-parser", "glm45",
            "--context-length", "4096",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            *extra_args,
        ]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until_healthy()

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_until_healthy(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                if requests.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the server was not healthy after {STARTUP_TIMEOUT_S} s:\n{self.log_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture(scope="session")
def server():
    """`glyph serve` on the tiny model with --reasoning-parser glm45, as a user starts it."""
    running = RunningServer("glyph", [])
    yield running
    running.stop()


@pytest.fixture(scope="session")
def test_server():
    """glyph_test_server: the same command, with "_scripted_output" requests allowed."""
    running = RunningServer("glyph_test_server", ["--skip-server-warmup"])
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api_key_server():
    """`glyph serve` with --api-key secret-key."""
    running = RunningServer("glyph", ["--api-key", "secret-key", "--skip-server-warmup"])
    yield running
    running.stop()


@pytest.fixture(scope="session")
def tool_call_server():
    """`glyph serve` on the tiny model with --reasoning-parser glm45 --tool-call-parser glm45,
    as SGLang's Glyph page starts it for tool calling."""
    running = RunningServer("glyph", ["--tool-call-parser", "glm45"])
    yield running
    running.stop()


@pytest.fixture(scope="session")
def tool_call_test_server():
    """glyph_test_server with --tool-call-parser glm45: "_scripted_output" requests allowed."""
    running = RunningServer("glyph_test_server", ["--tool-call-parser", "glm45",
                                                  "--skip-server-warmup"])
    yield running
    running.stop()
