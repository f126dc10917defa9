"""Signals of the marketplaces, for the apps above them that must react to a change here without
this app knowing them. No business rule runs in a receiver: receivers only queue work with
``on_commit``."""

from django.dispatch import Signal

# Sent inside the transaction that changed a marketplace's calendar or deadline policy, with
# kwargs ``marketplace_id`` and ``cause`` (calendar_change, policy_change): the apps that keep
# deadlines recompute theirs once it commits.
calendar_changed = Signal()
