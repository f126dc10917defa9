"""Create (once) a staff login for the demo and print it."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

CREDENTIALS = Path(settings.BASE_DIR) / "var" / "demo-login.txt"


class Command(BaseCommand):
    help = "Create the demo supervisor login 'admin' (password kept in var/demo-login.txt)."

    def handle(self, *args, **options):
        users = get_user_model()
        CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
        user = users.objects.filter(username="admin").first()
        password = CREDENTIALS.read_text().strip() if CREDENTIALS.exists() else ""
        if user is None or not password:
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = users.objects.create_superuser("admin", "admin@example.com", password)
            else:
                user.set_password(password)
                user.save()
            CREDENTIALS.write_text(password + "\n")
            CREDENTIALS.chmod(0o600)
        self.stdout.write(f"Staff login: admin / {password}")
