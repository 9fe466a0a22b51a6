"""The local file store for attachments: content-addressed, written atomically.

A blob is stored once per content (sha256); rows refer to it by key. A blob whose transaction
rolled back stays on disk unreferenced (harmless; `madad files gc` may remove such blobs).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

_UNSAFE = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str
    size: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[Path] = set()  # folders known to exist (a mkdir per blob is a syscall)

    def path_of(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError("bad blob key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> StoredBlob:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_of(digest)
        if not path.exists():
            if path.parent not in self._folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(path.parent)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredBlob(key=digest, sha256=digest, size=len(data))

    def get(self, key: str) -> bytes:
        return self.path_of(key).read_bytes()


def safe_filename(name: str | None, *, default: str = "attachment") -> str:
    """A file name that is safe on any disk and in a Content-Disposition header."""
    if not name:
        return default
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return default
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:150]
    return name


def content_disposition(filename: str) -> str:
    """An `attachment` Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "attachment"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
