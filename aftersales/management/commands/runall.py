"""Run the web server and the background worker together; Ctrl-C stops both."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


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
        # Our own interpreter and manage.py with fixed arguments: no outside input reaches them.
        processes = [subprocess.Popen(command) for command in commands]  # noqa: S603
        self.stdout.write(
            f"Web server on http://{options['addrport']}/ (admin: /admin/); "
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
