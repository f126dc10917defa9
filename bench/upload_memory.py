"""Memory of the web server while a 200 MB video is uploaded through the evidence form.

Starts a real server process (``manage.py runserver --noreload``, one process) on a throw-away
SQLite database and media folder, opens a customer's upload link, sends a video of about 200 MB
through the form as a browser would (multipart, CSRF cookie and token), and prints the server's
peak resident memory above its level just before the upload (Linux ``VmHWM``, reset through
``/proc/<pid>/clear_refs``, cross-checked by sampling ``VmRSS``). Target: under 64 MB.

    .venv/bin/python bench/upload_memory.py            # about 199 MB
    .venv/bin/python bench/upload_memory.py --mb 100
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_MB = 64
BOUNDARY = "----aftersales-bench-7f3a9c"


# -- the video --------------------------------------------------------------------------------


def make_big_video(path: Path, size_bytes: int) -> None:
    """A real H.264 MP4 of about ``size_bytes``: two seconds of noise (which does not
    compress) encoded once, then its packets repeated with shifted timestamps (no re-encoding,
    so it takes seconds). Every repeat starts on a key frame: the file plays and decodes."""
    import av
    from PIL import Image

    width, height, fps = 640, 480, 15
    rng = random.Random(4)
    clip = io.BytesIO()
    with av.open(clip, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps, options={"g": str(fps * 2)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(fps * 2):
            noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
            for packet in stream.encode(av.VideoFrame.from_image(noise)):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    clip_size = clip.tell()
    repeats = max(1, size_bytes // clip_size)
    clip.seek(0)
    with av.open(clip) as source, av.open(str(path), mode="w", format="mp4") as output:
        template = source.streams.video[0]
        stream = output.add_stream_from_template(template)
        packets = [p for p in source.demux(template) if p.dts is not None]
        span = max(p.pts + (p.duration or 0) for p in packets) - min(p.pts for p in packets)
        for repeat in range(repeats):
            for packet in packets:
                copy = av.Packet(bytes(packet))
                copy.pts = packet.pts + repeat * span
                copy.dts = packet.dts + repeat * span
                copy.duration = packet.duration
                copy.time_base = packet.time_base
                copy.is_keyframe = packet.is_keyframe
                copy.stream = stream
                output.mux(copy)


# -- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


SETUP = """
from cases.actors import Actor
from cases.choices import Door
from cases.services import case_transition
from intake.links import upload_url
from tests.factories import make_order, open_case
actor = Actor.system("benchmark")
case = open_case("damaged_item", actor=actor, order=make_order("tmall"))
case = case_transition(case=case, transition="request_evidence", actor=actor, door=Door.ADMIN)
print(upload_url(case.evidence_requests.get()))
"""


def memory_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


class Sampler(threading.Thread):
    """Samples the server's VmRSS every 10 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, memory_kb(self.pid, "VmRSS"))
            except (FileNotFoundError, AttributeError):
                return
            time.sleep(0.01)


# -- the client (streams the body; holds nothing big either) ----------------------------------


class MultipartBody:
    """A file-like multipart body: fields, then the file streamed from disk."""

    def __init__(self, fields: dict[str, str], field: str, path: Path, content_type: str):
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{path.name}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        # The file is closed by ``read`` once sent.
        self.parts = [io.BytesIO(head.encode()), open(path, "rb"), io.BytesIO(tail)]  # noqa: SIM115
        self.length = sum(len(p.getvalue()) for p in (self.parts[0], self.parts[2]))
        self.length += path.stat().st_size

    def read(self, size: int = 65536) -> bytes:
        while self.parts:
            data = self.parts[0].read(size)
            if data:
                return data
            self.parts.pop(0).close()
        return b""


def request(port: int, method: str, path: str, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    connection.close()
    return response.status, data, cookies


def csrf_of(port: int, path: str) -> tuple[str, str]:
    status, page, cookies = request(port, "GET", path)
    assert status == 200, status
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = next(c.split(";")[0] for c in cookies if c.startswith("csrftoken="))
    return token, cookie


def upload(port: int, path: str, field: str, file: Path, item: str) -> tuple[int, dict, float]:
    token, cookie = csrf_of(port, path)
    body = MultipartBody({"csrfmiddlewaretoken": token, "item": item}, field, file, "video/mp4")
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(body.length),
        "Cookie": cookie,
        "Accept": "application/json",
        "Origin": f"http://127.0.0.1:{port}",
    }
    started = time.monotonic()
    status, data, _cookies = request(port, "POST", path, body=body, headers=headers)
    return status, json.loads(data), time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=199.0, help="video size in MiB (limit 200)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    server = None
    try:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(work / "media"),
            "DEBUG": "0",
            "INTAKE_EMAIL_LINKS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        video = work / "unboxing.mp4"
        started = time.monotonic()
        make_big_video(video, int(args.mb * 1024 * 1024))
        size = video.stat().st_size
        print(f"video: {size / 1024 / 1024:.1f} MiB, made in {time.monotonic() - started:.1f} s")
        manage(env, "migrate", "--noinput")
        link = manage(env, "shell", "-c", SETUP).strip().splitlines()[-1]
        small = work / "warm-up.mp4"
        make_big_video(small, 3 * 1024 * 1024)

        port = free_port()
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        # Warm up: every module the upload path needs is imported, caches are filled.
        status, body, _ = upload(port, link, "file", small, "unboxing_video")
        assert status == 200, (status, body)
        baseline = memory_kb(server.pid, "VmRSS")
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        sampler = Sampler(server.pid)
        sampler.start()

        status, body, seconds = upload(port, link, "file", video, "item")

        sampler.running = False
        sampler.join()
        peak = max(memory_kb(server.pid, "VmHWM"), sampler.peak)
        result = body["files"][0] if body.get("files") else body
        print(f"upload: HTTP {status}, {result.get('status')}: {result.get('message')}")
        print(
            f"upload + checks + storage: {seconds:.1f} s ({size / 1024 / 1024 / seconds:.0f} MiB/s)"
        )
        stored = max(
            (f.stat().st_size for f in (work / "media" / "evidence").rglob("*.mp4")), default=0
        )
        print(f"stored copy (remuxed, no metadata): {stored / 1024 / 1024:.1f} MiB")
        print(f"server baseline RSS: {baseline / 1024:.1f} MiB")
        print(f"server peak RSS during the upload: {peak / 1024:.1f} MiB")
        extra = (peak - baseline) / 1024
        verdict = "met" if extra < TARGET_MB else "MISSED"
        print(f"peak extra memory: {extra:.1f} MiB (target < {TARGET_MB} MiB: {verdict})")
        return 0 if status == 200 and extra < TARGET_MB else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
