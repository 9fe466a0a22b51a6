"""Madad: an open-source customer support desk.

One ASGI application over one database; see ARCHITECTURE.md for the shape of the package.
"""

__version__ = "0.1.0"
