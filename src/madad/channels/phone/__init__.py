"""The phone channel: call events from any phone system become tickets with a call timeline."""
