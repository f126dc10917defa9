"""Signals of the messaging domain, for the layers above it (the API's webhooks).

``outbound_queued``: a reply entered the outbox (sent once the transaction commits), with
``outbound`` (an ``OutboundMessage``). Push connectors hear of it as the ``message.outbound``
webhook event (``api.webhooks.messages``).
"""

from django.dispatch import Signal

outbound_queued = Signal()
