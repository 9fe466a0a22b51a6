"""Tickets: the one ingress (`receive`), messages and attachments, assignment, statuses,
priorities, tags, escalation, merges and links — and the facts each of them records.

Part of the core: must not import channels, webhooks or any other edge domain. Channels plug in
by registering outbound deliverers (see `delivery.py`); they are never imported from here.
"""
