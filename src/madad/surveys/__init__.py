"""Voice of the customer and of the agent: CSAT after contacts, NPS, CES and the agents' pulse."""
