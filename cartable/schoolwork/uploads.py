"""The upload size limit, enforced before a file is read.

Two guards: ``BodyLimit`` wraps the ASGI application and answers 413 to a request to the
schoolwork addresses whose declared length is over the limit, before Django reads (and
spools) a byte of its body; ``LimitedUploadHandler`` (first of ``FILE_UPLOAD_HANDLERS``)
stops a multipart upload to those addresses as soon as it passes the limit (a body sent
without a length, or a lying one). Neither ever holds the file in memory. Behind a reverse
proxy, set its body limit too (docs/deploy.md).
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# The addresses that take schoolwork uploads.
UPLOAD_PATH = re.compile(r"^/(travail/\d+/|prets/\d+/travail/)")
OVERHEAD = 256 * 1024  # the form's other fields and multipart boundaries


def limit() -> int:
    return settings.SCHOOLWORK["MAX_UPLOAD_BYTES"] * 4 + OVERHEAD  # up to 4 photos at once


def is_upload_path(path: str) -> bool:
    return bool(UPLOAD_PATH.match(path))


class LimitedUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.active = self.request is not None and is_upload_path(self.request.path)
        self.received = 0
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0  # the limit is per file

    def receive_data_chunk(self, raw_data, start):
        if getattr(self, "active", False):
            self.received += len(raw_data)
            if self.received > settings.SCHOOLWORK["MAX_UPLOAD_BYTES"]:
                self.request._schoolwork_too_big = True
                raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


class BodyLimit:
    """ASGI middleware: 413 for an over-long declared body on the upload addresses."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and is_upload_path(scope.get("path", "")):
            length = next(
                (value for name, value in scope.get("headers", []) if name == b"content-length"),
                None,
            )
            if length is not None and length.isdigit() and int(length) > limit():
                from .content import too_big_message

                body = json.dumps({"error": too_big_message()}, ensure_ascii=False).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json; charset=utf-8"),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
