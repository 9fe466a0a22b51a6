"""Chat files as HTTP answers: always a download, never rendered by a browser in our origin
(the visitor's signed links and the console's own)."""

from __future__ import annotations

from fastapi.responses import Response

from madad.files import FileStore, content_disposition
from madad.tickets.models import Attachment


def download_response(attachment: Attachment, store: FileStore) -> Response:
    return Response(
        content=store.get(attachment.sha256),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "X-Madad-Content-Type": attachment.content_type,
        },
    )
