"""The CRM: contacts with their identities, organisations, notes, merges, customer timeline.

Part of the core: must not import channels, webhooks or any other edge domain.
"""
