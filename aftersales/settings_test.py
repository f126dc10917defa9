"""Settings of the test run: production settings (DEBUG off) with a key of its own, since the
production settings refuse to start without ``SECRET_KEY``."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from .settings import *  # noqa: F403
