"""Facts: the append-only `activity` record of everything that happened, its realtime stream,
and the consumers that react to new facts (webhooks, rollups) in commit order.

Part of the core: must not import channels, webhooks or any other edge domain; edges register
fact consumers here instead.
"""
