"""Print the workflows as Mermaid diagrams (the README's are generated with this)."""

from django.core.management.base import BaseCommand

from cases import workflows
from cases.choices import CaseKind


class Command(BaseCommand):
    help = "Mermaid state diagrams of every case kind's workflow, in Markdown."

    def handle(self, *args, **options):
        for kind in CaseKind:
            self.stdout.write(
                f"#### `{kind.value}`\n\n```mermaid\n{workflows.mermaid(kind)}\n```\n"
            )
