"""``manage.py personal_data export|erase --email ADDRESS [--marketplace CODE]``: a customer's
personal data on request (``cases.personal_data``).

    personal_data export --email li.wei@example.com --output li.zip   # JSON + evidence files
    personal_data export --order TM-1001 --json                       # the JSON on stdout
    personal_data erase --email li.wei@example.com --yes              # pseudonymise, delete files
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.actors import Actor
from cases.choices import Door
from cases.errors import DomainError
from cases.personal_data import (
    personal_data_erase,
    personal_data_export,
    personal_data_export_zip,
    personal_data_subject,
)


class Command(BaseCommand):
    help = "Export or erase a customer's personal data (orders, cases, messages, evidence)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("--email", default="", help="The customer's e-mail address.")
        parser.add_argument("--order", default="", help="Or an order id of the customer.")
        parser.add_argument("--marketplace", default="", help="Only this marketplace (code).")
        parser.add_argument("--output", default="", help="export: the ZIP file to write.")
        parser.add_argument("--json", action="store_true", help="export: print the JSON only.")
        parser.add_argument("--yes", action="store_true", help="erase: it cannot be undone.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            subject = personal_data_subject(
                email=options["email"], order=options["order"], marketplace=options["marketplace"]
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        if options["action"] == "export":
            if options["json"]:
                self.stdout.write(json.dumps(personal_data_export(subject), indent=2))
                return
            if not options["output"]:
                raise CommandError("Give --output FILE.zip (or --json to print the JSON).")
            path = Path(options["output"])
            path.write_bytes(personal_data_export_zip(subject))
            self.stdout.write(
                f"Wrote {path}: {len(subject.order_ids)} orders, {len(subject.case_ids)} cases."
            )
            return
        if not options["yes"]:
            raise CommandError(
                f"This erases the personal data of {len(subject.order_ids)} orders and "
                f"{len(subject.case_ids)} cases and cannot be undone: add --yes."
            )
        erasure = personal_data_erase(
            subject=subject, actor=Actor.system("personal data request"), door=Door.COMMAND
        )
        self.stdout.write(
            f"Erasure #{erasure.pk}: {erasure.orders} orders, {erasure.cases} cases, "
            f"{erasure.evidence} evidence files, other rows {erasure.parts}."
        )
