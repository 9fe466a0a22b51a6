"""The HTTP edge shared by every domain: request-scoped units of work, authentication of API
callers, problem documents for errors, request size limits; later base templates and assets.
"""
