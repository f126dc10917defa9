"""Create an API client and print its key once, on the last line (scripts take ``tail -1``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from marketplaces.models import Marketplace

from ...models import CLIENT_PERMISSION_FIELDS, ApiClient

RIGHTS = {field.removeprefix("may_"): field for field in CLIENT_PERMISSION_FIELDS}


class Command(BaseCommand):
    help = (
        "Create an API client for some marketplaces and print its key (shown once: only its "
        "hash is stored). Example: create_api_client erp --marketplaces tmall,amazon_fr"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a name for the integration, e.g. erp")
        parser.add_argument(
            "--marketplaces",
            required=True,
            help="comma-separated marketplace codes the client sees and changes",
        )
        parser.add_argument(
            "--right",
            action="append",
            default=[],
            choices=sorted(RIGHTS),
            help="a supervisor right (repeatable): " + ", ".join(sorted(RIGHTS)),
        )
        parser.add_argument(
            "--supervisor", action="store_true", help="all supervisor rights at once"
        )
        parser.add_argument("--rate", default="", help="own rate limit, e.g. 600/min")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("Give the client a name.")
        if ApiClient.objects.filter(name=name).exists():
            raise CommandError(
                f"A client named {name!r} exists. Rotate its key in the admin, or choose "
                "another name."
            )
        codes = [code.strip() for code in options["marketplaces"].split(",") if code.strip()]
        marketplaces = list(Marketplace.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {m.code for m in marketplaces})
        if unknown or not codes:
            known = ", ".join(Marketplace.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(
                f"Unknown marketplace(s) {', '.join(unknown) or '-'}. Known: {known}."
            )
        rights = set(RIGHTS) if options["supervisor"] else set(options["right"])
        client = ApiClient(name=name, throttle_rate=options["rate"])
        for right in rights:
            setattr(client, RIGHTS[right], True)
        key = client.set_new_key()
        client.full_clean(exclude=["key_prefix", "key_hash"])
        with transaction.atomic():
            client.save()
            client.marketplaces.set(marketplaces)
        self.stdout.write(
            f"API client {client.name!r} created for {', '.join(sorted(codes))}"
            f"{'; rights: ' + ', '.join(sorted(rights)) if rights else ''}. "
            "Its key is on the next line; it is shown only now."
        )
        self.stdout.write(key)
