import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_is_ok_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(**env_overrides):
    """A real gunicorn serving the project with the given environment."""
    port = _free_port()
    env = {**os.environ, "DJANGO_SECURE_SSL_REDIRECT": "0", **env_overrides}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_reports_a_dead_database_as_503():
    # Nothing listens on port 1: the database is down for this server.
    with _server(DATABASE_URL="postgres://postgres@127.0.0.1:1/consentdesk") as url:
        status, body = _get(url + "/healthz")
    assert status == 503
    assert body["status"] == "error"
    assert body["checks"]["database"]["status"] == "error"
    assert "OperationalError" in body["checks"]["database"]["error"]
    assert body["checks"]["broker"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_a_dead_broker_as_503():
    with _server(CELERY_BROKER_URL="redis://127.0.0.1:1/0") as url:
        status, body = _get(url + "/healthz")
    assert status == 503
    assert body["checks"]["broker"]["status"] == "error"
