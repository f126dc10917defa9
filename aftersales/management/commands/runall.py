"""Run the web server and the background worker together; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def public_url_for(addrport: str) -> str:
    """The address links in e-mails point to when served on ``addrport`` (runserver's forms:
    ``8100``, ``127.0.0.1:8100``, ``0.0.0.0:8100``, ``[::1]:8100``)."""
    host, _sep, port = addrport.rpartition(":")
    if host in {"", "0.0.0.0", "[::]", "0"}:  # noqa: S104 (recognised, not bound to)
        host = "127.0.0.1"  # every interface: the machine's own address reaches it
    return f"http://{host}:{port}"


def child_environment(addrport: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The web server's and the worker's environment: ``PUBLIC_URL`` follows the address
    served on unless it is set (the worker sends the e-mails: it must agree with the server)."""
    env = dict(environ)
    if not env.get("PUBLIC_URL"):
        env["PUBLIC_URL"] = public_url_for(addrport)
    return env


class Command(BaseCommand):
    help = "Start the web server (runserver) and the django-q2 worker (qcluster) together."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="only the web server")

    def handle(self, *args, **options):
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        commands = [[sys.executable, manage, "runserver", options["addrport"], "--noreload"]]
        if not options["no_worker"]:
            commands.append([sys.executable, manage, "qcluster"])
        env = child_environment(options["addrport"], os.environ)
        # Our own interpreter and manage.py with fixed arguments: no outside input reaches them.
        processes = [subprocess.Popen(command, env=env) for command in commands]  # noqa: S603
        self.stdout.write(
            f"Web server on http://{options['addrport']}/ (admin: /admin/); "
            f"links in e-mails to {env['PUBLIC_URL']}/; "
            f"{'worker running' if len(processes) > 1 else 'no worker'}. Ctrl-C stops all."
        )
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            self.stdout.write(f"E-mails sent are written to {settings.EMAIL_FILE_PATH}/.")

        def stop(*_args):
            for process in processes:
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("Stopped.")
