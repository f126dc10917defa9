"""Evidence on object storage (any S3-compatible service), kept private.

``STORAGES["evidence"]`` is this backend when ``AWS_STORAGE_BUCKET_NAME`` is set (settings). The
files never get an address of their own: ``url()`` refuses, so neither a public nor a presigned
link can leave the server; people see a file only through the views that check their access,
which stream it from here (``open_window``: one ranged GET, read in chunks, never the whole
object first).
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class Window(Protocol):
    """A readable part of a stored file: ``read(size)`` then ``close()``."""

    def read(self, size: int = -1) -> bytes: ...

    def close(self) -> None: ...


class PrivateS3Storage(S3Storage):
    """S3Storage with no URLs, no overwriting, the bucket's own (private) ACL, and ranged
    reads for the file views."""

    def get_default_settings(self) -> dict[str, Any]:
        defaults = super().get_default_settings()
        defaults.update(
            {
                "default_acl": None,  # the bucket's, which is private; never public-read
                "querystring_auth": True,
                "file_overwrite": False,
                "custom_domain": None,
            }
        )
        return defaults

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        raise NotImplementedError(
            "Evidence files have no address: they are served by the views that check access."
        )

    def open_window(self, name: str, start: int, length: int) -> Window:
        """Bytes ``[start, start+length)`` of ``name``, streamed from one ranged GET."""
        if length <= 0:
            return io.BytesIO(b"")
        key = self._normalize_name(clean_name(name))
        end = start + length - 1
        answer = self.bucket.Object(key).get(Range=f"bytes={start}-{end}")
        return answer["Body"]
