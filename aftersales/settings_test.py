"""Settings of the test run: production settings (DEBUG off) with a key of its own, since the
production settings refuse to start without ``SECRET_KEY``."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from .settings import *  # noqa: F403

# The tests serve static files from the apps, as development does: the hashed names of the
# production storage exist only after collectstatic (the gunicorn test runs it).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
