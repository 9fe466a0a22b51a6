"""The email channel: mailboxes, inbound parsing and threading, quote stripping, loop
protection, IMAP polling, the SMTP listener and outbound replies through the jobs outbox.

An edge domain: it calls the core's services (tickets, contacts, activity) and is never
imported by them.
"""
