"""Outgoing webhooks: admins subscribe URLs to kinds of facts; each fact becomes a signed,
retried delivery with a log. An edge domain: reads facts as a consumer, never imported by core.
"""
