"""`eventyard serve` and `eventyard run` serve the admin surface: real processes, real ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from running_app import free_port, running_app

import eventyard
from eventyard.admin.auth import TOKEN_ENV, token_path

pytestmark = pytest.mark.slow


def _wait_for(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"the process exited early:\n{log.read_text()}"
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def test_serve_answers_the_admin_api_with_the_token_from_beside_the_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shop.db"
    with eventyard.connect(f"sqlite:///{database}") as client:
        client.create_queue("orders").send("one")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eventyard",
                "serve",
                "--db",
                f"sqlite:///{database}",
                "--port",
                str(port),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/admin/login", process, log)
        token = Path(token_path(str(database))).read_text().strip()
        assert (os.stat(token_path(str(database))).st_mode & 0o777) == 0o600
        response = httpx.get(
            url + "/admin/api/queues", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        [orders] = response.json()["queues"]
        assert (orders["name"], orders["visible"]) == ("orders", 1)
        assert httpx.get(url + "/admin/api/queues").status_code == 401
        root = httpx.get(url + "/")
        assert root.status_code == 307
        assert root.headers["location"] == "/admin/"
        printed = log.read_text()
        assert f"admin: {url}/admin/" in printed
        assert token_path(str(database)) in printed
        assert token not in printed
        link = next(line for line in printed.splitlines() if "/admin/login?once=" in line)
        with httpx.Client() as browser:
            landed = browser.get(link.split(": ", 1)[1])
            assert landed.status_code == 200
            assert browser.get(url + "/admin/api/queues").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()


APP = """
import eventyard

app = eventyard.App("quiet")
app.queue("inbox")
"""


def test_run_serves_the_admin_surface_even_without_app_routes(tmp_path: Path) -> None:
    app_file = tmp_path / "quiet.py"
    app_file.write_text(APP)
    database = f"sqlite:///{tmp_path / 'quiet.db'}"
    token = "operator-token-0123456789"
    log = tmp_path / "run.log"
    with running_app(
        str(app_file), database, log, env={TOKEN_ENV: token}, ready_path="/admin/login"
    ) as app:
        with app.http() as http:
            queues = http.get("/admin/api/queues", headers={"Authorization": f"Bearer {token}"})
            assert queues.status_code == 200, queues.text
            assert [q["name"] for q in queues.json()["queues"]] == ["inbox"]
            assert http.get("/admin/api/queues").status_code == 401
            assert http.get("/inbox").status_code == 404
        printed = app.log()
        assert f"admin: {app.url}/admin/" in printed
        assert f"token in the environment variable {TOKEN_ENV}" in printed
        assert token not in printed
    assert not Path(token_path(str(tmp_path / "quiet.db"))).exists()
