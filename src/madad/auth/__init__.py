"""People and access: users and their roles, teams, API tokens, permissions, the audit log.

Part of the core: must not import channels, webhooks or any other edge domain.
"""
