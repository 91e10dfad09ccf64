"""Settings that production refuses, and `make run` on a taken port."""

from __future__ import annotations

import socket

import pytest

from backend.core.config import DEFAULT_SECRET_KEY, ConfigError, Settings
from backend.supervisor import port_problem


def test_production_refuses_the_default_secret_key():
    s = Settings(bizbot_env="production", secret_key=DEFAULT_SECRET_KEY,
                 database_url="postgresql://x/y", redis_url="redis://x")  # fmt: skip
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        s.check_production()


def test_production_needs_external_services():
    s = Settings(bizbot_env="production", secret_key="k" * 40, database_url=None)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        s.check_production()


def test_development_keeps_a_random_secret_key_in_data(tmp_path):
    s = Settings(secret_key=DEFAULT_SECRET_KEY, data_dir=tmp_path)
    key = s.effective_secret_key
    assert len(key) >= 48
    assert key != DEFAULT_SECRET_KEY
    assert Settings(secret_key=DEFAULT_SECRET_KEY, data_dir=tmp_path).effective_secret_key == key


def test_public_url_follows_the_port_and_is_checked():
    assert Settings(port=3123, public_url="").public_url == "http://localhost:3123"
    assert Settings(public_url="https://bot.example.com/").public_url == "https://bot.example.com"
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        Settings(public_url="bot.example.com")


def test_a_taken_port_is_named_with_the_fix():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
    assert f"Port {port}" in problem
    assert f"PORT={port + 1} make run" in problem
    assert port_problem("127.0.0.1", port) is None
