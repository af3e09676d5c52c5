"""Configuration is parsed strictly at start: unknown keys and bad values stop with the key's name."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_load_and_env_overrides():
    cfg = settings.load(environ={"KS_DATABASE": "/tmp/x.db", "KS_ZENDESK_SUBDOMAIN": "acme",
                                 "KS_WORKER_MAX_ATTEMPTS": "3", "KS_DEMO_ENABLED": "false",
                                 "KS_SUGGEST_LANGUAGES": "en,pl", "KS_MAIN": "ignored: not ours"})
    assert cfg["database"] == "/tmp/x.db"
    assert cfg["zendesk"]["subdomain"] == "acme"
    assert cfg["worker"]["max_attempts"] == 3
    assert cfg["demo"]["enabled"] is False
    assert cfg["suggest"]["languages"] == ["en", "pl"]


def test_explicit_overrides_win_over_env():
    cfg = settings.load({"zendesk": {"subdomain": "beta"}}, environ={"KS_ZENDESK_SUBDOMAIN": "acme"})
    assert cfg["zendesk"]["subdomain"] == "beta"


@pytest.mark.parametrize("overrides, environ, key", [
    ({"zendesk": {"subdomian": "typo"}}, {}, "zendesk.subdomian"),
    ({"nonsense": 1}, {}, "nonsense"),
    ({}, {"KS_WORKER_MAX_ATTEMPTS": "many"}, "worker.max_attempts"),
    ({}, {"KS_DEMO_ENABLED": "perhaps"}, "demo.enabled"),
    ({"zendesk": {"write_back": "everything"}}, {}, "zendesk.write_back"),
    ({"suggest": {"default_language": "xx"}}, {}, "suggest.default_language"),
    ({"worker": {"poll_seconds": 0}}, {}, "worker.poll_seconds"),
    ({"zendesk": "acme"}, {}, "zendesk"),
])
def test_bad_configuration_names_the_key(overrides, environ, key):
    with pytest.raises(settings.ConfigError) as err:
        settings.load(overrides, environ=environ)
    assert str(err.value).startswith(key + ":")


def test_start_up_fails_with_one_clear_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "KS_DATABASE": str(tmp_path / "x.db"), "KS_WORKER_MAX_ATTEMPTS": "lots"}
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "worker.max_attempts: expected int, got 'lots'" in proc.stderr
    assert "Traceback" not in proc.stderr
