"""Outgoing webhooks: signed POSTs of chosen events to a business's own systems."""
