"""Every development command the README shows works exactly as written after `make run`, in a shell that has
nothing set: the `make run` steps (migrate, load_demo, run_embedded) from the Makefile, then each ```sh block and
each inline `… manage.py …` command, against the server they expect (its port swapped for a free one)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# What a fresh shell does not have: the suite's own settings and any mode or service it runs against.
UNSET = {
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "OPSPORTAL_MODE",
    "SECRET_KEY",
    "PUBLIC_URL",
    "DJANGO_SETTINGS_MODULE",
}


def _development_blocks() -> list[str]:
    """```sh blocks a developer runs after `make run`: not `make run` itself, not the production recipe."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return [block for block in blocks if "make run" not in block and "DEBUG=0" not in block]


def _inline_commands() -> list[str]:
    return re.findall(r"`((?:DEBUG=1 )?\.venv/bin/python manage\.py [^`]+)`", README)


def test_readme_shows_development_commands_to_check():
    assert any("create_api_token" in block for block in _development_blocks())
    assert any("export_statuspage" in command for command in _inline_commands())


@pytest.fixture
def after_make_run(tmp_path):
    """What `make run` leaves: a migrated SQLite database with demo data and the server, in a clean env."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("needs the project's .venv (make install)")
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(OPSPORTAL_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_env = {**env, "DEBUG": "1", "PORT": str(port)}  # the Makefile's DEV_ENV
    for step in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([python, "manage.py", *step], cwd=ROOT, env=make_env, check=True, capture_output=True)
    server = subprocess.Popen(
        [python, "manage.py", "run_embedded", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=make_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("run_embedded did not start") from None
                time.sleep(0.2)
        yield env, port, tmp_path
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_readme_development_commands_work_as_written(after_make_run):
    env, port, tmp_path = after_make_run
    scripts = [*_development_blocks(), *_inline_commands()]
    for script in scripts:
        # The test's own server port, and its own scratch space instead of the checkout's var/.
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(" var/", f" {tmp_path}/")
        result = subprocess.run(
            [
                "bash",
                "-euo",
                "pipefail",
                "-c",
                'curl() { command curl --fail --silent --show-error "$@"; }\n' + script,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_readme_stands_alone():
    # Links and paths it gives stay inside the repository.
    assert "../" not in README
