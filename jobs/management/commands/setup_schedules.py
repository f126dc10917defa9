"""Install the background worker's schedules (idempotent: run it as often as you like)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from jobs.schedules import schedules_install


class Command(BaseCommand):
    help = (
        "Create or update the django-q2 schedules: deadline sweep, late-shipment escalation, "
        "evidence reminders, daily scorecard snapshots, quarterly scorecard report."
    )

    def handle(self, *args, **options):
        for name, outcome in schedules_install():
            self.stdout.write(f"{name}: {outcome}")
