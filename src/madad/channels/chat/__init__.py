"""Live chat: the website widget, visitors' signed tokens, chat sessions, the queue and its
offers to agents, and agents' availability. Builds on tickets (messages go through the one
ingress, replies through `tickets.service.reply`); the core never imports this package.
"""
