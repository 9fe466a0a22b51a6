"""The generic API channel: integrations (social media bridges, custom forms) post customer
messages to `POST /api/v1/inbound` and hear agents' replies through webhooks.
"""
