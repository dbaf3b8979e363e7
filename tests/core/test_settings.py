"""Production refuses to start without a secret key and allowed hosts; development starts safely."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _start(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    env.update({"OPSPORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "opsportal.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _start({"DEBUG": "0", "ALLOWED_HOSTS": "status.example.com"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _start({"DEBUG": "0", "SECRET_KEY": "x" * 50}, tmp_path)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_production_starts_with_both(tmp_path):
    result = _start({"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "status.example.com"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_development_makes_a_private_per_machine_secret_key(tmp_path):
    result = _start({"DEBUG": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "dev-secret-key"
    assert len(key_file.read_text()) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
