"""Fixture that runs the real ``magento-connector`` binary on a free loopback port.

The binary is ``$MAGENTO_CONNECTOR_BIN`` (set by ``tests/python_addon.rs`` under ``cargo test``),
else ``target/debug/magento-connector`` of the repository. When the variable is not set and the
default binary does not exist, the server tests are skipped with a message saying how to build it;
when the variable is set, a missing or failing binary is an error.
"""

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from addon_source import ADDON_ROOT

REPO_ROOT = ADDON_ROOT.parent
DEFAULT_BINARY = REPO_ROOT / "target" / "debug" / "magento-connector"
STARTUP_TIMEOUT = 60.0


@dataclass
class RunningServer:
    """A started server: its XML-RPC URL, token, ``/health`` answer and log file."""

    url: str
    base_url: str
    token: str
    health: dict
    log_path: Path
    process: subprocess.Popen

    def log_text(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _binary():
    explicit = os.environ.get("MAGENTO_CONNECTOR_BIN")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            pytest.fail("MAGENTO_CONNECTOR_BIN=%s does not exist" % explicit)
        return path
    if not DEFAULT_BINARY.is_file():
        pytest.skip("no server binary: run `cargo build` or set MAGENTO_CONNECTOR_BIN")
    return DEFAULT_BINARY


def _health(base_url):
    with urllib.request.urlopen(base_url + "/health", timeout=2) as answer:
        return answer.status, json.loads(answer.read().decode("utf-8"))


@pytest.fixture(scope="session")
def connector_server(tmp_path_factory):
    binary = _binary()
    workdir = tmp_path_factory.mktemp("connector")
    port = _free_port()
    token = secrets.token_urlsafe(24)
    config = workdir / "connector.toml"
    config.write_text(
        "[server]\n"
        'bind = "127.0.0.1:%d"\n'
        'token = "%s"\n'
        "\n[state]\n"
        'path = "%s"\n'
        "\n[backends.sandbox]\n"
        "sandbox = true\n" % (port, token, (workdir / "state.sqlite3").as_posix()),
        encoding="utf-8",
    )
    # The server reads MAGENTO_CONNECTOR_* overrides: none of the caller's may leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGENTO_CONNECTOR")}
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(binary), "--config", str(config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(workdir),
        env=env,
    )
    base_url = "http://127.0.0.1:%d" % port
    server = None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while server is None:
            if process.poll() is not None:
                pytest.fail(
                    "%s serve exited with status %s before answering /health:\n%s"
                    % (binary, process.returncode, log_path.read_text(errors="replace"))
                )
            try:
                status, health = _health(base_url)
            except (OSError, urllib.error.URLError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(
                        "%s serve did not answer /health within %s s:\n%s"
                        % (binary, STARTUP_TIMEOUT, log_path.read_text(errors="replace"))
                    )
                time.sleep(0.1)
                continue
            assert status == 200
            server = RunningServer(base_url + "/RPC2", base_url, token, health, log_path, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
