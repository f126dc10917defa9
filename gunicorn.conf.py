"""gunicorn's configuration for ``make serve`` (the production server).

Every value can be changed from the environment: ``WEB_CONCURRENCY`` worker processes (default:
two per core plus one, at most 8), ``WEB_THREADS`` threads each, ``WEB_TIMEOUT`` seconds before
a stuck worker is replaced, ``BIND`` the address. Its log lines are JSON (one access line per
request, with the request id the application answered in ``X-Request-ID``).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("WEB_THREADS", "1"))
# Large evidence uploads (200 MB videos) over slow links: the reverse proxy buffers them, so the
# worker's own wait stays bounded.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A worker is replaced after this many requests (with jitter so they do not all restart at once):
# memory that a library holds on to is given back.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The heartbeat file on a RAM disk where there is one (a slow disk would look like a stuck worker).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn's heartbeat, no data)
# Only the reverse proxy on this machine may say the client's address and scheme
# (FORWARDED_ALLOW_IPS widens it).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 24+ opens a control socket at one fixed path per user: several servers on one machine
# (or the tests) would fight over it, and nothing here uses it.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# JSON lines, as the application writes (LOG_FORMAT=text keeps gunicorn's own format).
if os.environ.get("LOG_FORMAT", "json") == "json":
    logger_class = "aftersales.gunicorn_logs.JsonLogger"

# Links in e-mails follow the address served on unless PUBLIC_URL says otherwise (behind a
# proxy in production it must: https://support.example.com).
if not os.environ.get("PUBLIC_URL"):
    host, _sep, port = bind.rpartition(":")
    if host in {"", "0.0.0.0", "[::]"}:  # noqa: S104 (recognised, not bound to)
        host = "127.0.0.1"
    os.environ["PUBLIC_URL"] = f"http://{host}:{port}"
