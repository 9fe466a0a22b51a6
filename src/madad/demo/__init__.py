"""Demo data: a believable 90-day history of a support team, written through the live services."""
