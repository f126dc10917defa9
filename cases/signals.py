"""Signals other parts of the system listen to. No business rule runs in a receiver: receivers
only record an outbox row in the same transaction, or queue work with ``on_commit``."""

from django.dispatch import Signal

# Sent inside the transaction that wrote a CaseEvent, right after the row: kwargs ``event``.
case_event_recorded = Signal()

# Sent inside the transaction that matched carrier scans to their shipments (new scans of a known
# parcel, or scans kept until their shipment arrived): kwargs ``event_ids``.
tracking_events_recorded = Signal()
