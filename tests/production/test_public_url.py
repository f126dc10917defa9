"""``PUBLIC_URL`` (the address in e-mailed links) follows the address the server runs on unless
it is set: ``make run ADDR=127.0.0.1:18100`` links to port 18100."""

from __future__ import annotations

import os
import runpy

import pytest

from aftersales.management.commands.runall import child_environment, public_url_for

from .server import ROOT


@pytest.mark.parametrize(
    ("addrport", "url"),
    [
        ("127.0.0.1:18100", "http://127.0.0.1:18100"),
        ("18100", "http://127.0.0.1:18100"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("support.local:8080", "http://support.local:8080"),
    ],
)
def test_the_address_served_on_gives_the_public_url(addrport, url):
    assert public_url_for(addrport) == url


def test_runall_passes_it_to_the_web_server_and_the_worker():
    env = child_environment("127.0.0.1:18100", {"PATH": "/usr/bin", "DEBUG": "1"})
    assert env == {"PATH": "/usr/bin", "DEBUG": "1", "PUBLIC_URL": "http://127.0.0.1:18100"}


def test_a_public_url_that_is_set_wins():
    env = child_environment("127.0.0.1:18100", {"PUBLIC_URL": "https://support.example.com"})
    assert env["PUBLIC_URL"] == "https://support.example.com"


def test_make_serve_follows_its_bind_address_too(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "")  # unset (and restored after the test)
    monkeypatch.setenv("BIND", "0.0.0.0:18200")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:18200"
    assert os.environ["PUBLIC_URL"] == "http://127.0.0.1:18200"
    monkeypatch.setenv("PUBLIC_URL", "https://support.example.com")
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert os.environ["PUBLIC_URL"] == "https://support.example.com"
