"""The customer portal: customers sign in with a magic link sent by email, follow their
requests (and their organisation's, where an admin allows it), reply, and open new ones.

Builds on the core (tickets, contacts, activity, auth) and the email channel, which it uses to
send sign-in links and replies; the core never imports it. Everything a customer sees is read
through `portal.service`, scoped by the signed-in contact in the SQL itself.
"""
