"""Channels: adapters that turn what arrives (email, chat, call events, API posts) into one
`tickets.Inbound` and deliver agents' replies back. Edge domains: the core never imports them.
"""
