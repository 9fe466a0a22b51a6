"""The knowledge base: categories, sections, articles with per-language versions (drafts,
published, history), their safe rendering, and search. Builds on auth and activity; the core
(tickets, contacts) never imports it."""
