"""A throw-away PostgreSQL cluster of the test's own, which the test may stop and start (the
suite's server, from ``scripts/with-postgres``, must stay up for the other tests). Started as
``scripts/with-postgres`` does: initdb, a private unix socket, no TCP port."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root: the cluster belongs to the postgres user then.
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


@dataclass
class Cluster:
    bin: Path
    folder: Path

    @property
    def url(self) -> str:
        return f"postgres://aftersales@/aftersales?host={self.folder}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._ctl(
            "-l",
            str(self.folder / "log"),
            "-w",
            "-o",
            f"-k {self.folder} -c listen_addresses='' -c fsync=off -c max_connections=100",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast``: connections are cut and open transactions rolled back, as in an outage."""
        self._ctl("-m", mode, "-w", "stop")


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    pg_bin = postgres_bin()
    assert pg_bin is not None, "PostgreSQL is not installed"
    folder = Path(tempfile.mkdtemp(prefix="aftersales-outage."))
    folder.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
    server = Cluster(bin=pg_bin, folder=folder)
    try:
        locale = "C.UTF-8" if "c.utf8" in _locales() else "C"
        subprocess.run(
            _as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(folder / "data"),
                    "-U",
                    "aftersales",
                    "--auth=trust",
                    "--encoding=UTF8",
                    f"--locale={locale}",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        server.start()
        subprocess.run(
            [str(pg_bin / "createdb"), "-h", str(folder), "-U", "aftersales", "aftersales"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _locales() -> set[str]:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout
    except OSError:
        return set()
    return {line.strip().lower().replace("-", "") for line in out.splitlines()}
