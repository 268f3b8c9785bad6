"""Attachment storage: a local-filesystem default under the data directory, an S3-compatible option (boto3,
installed with the ``s3`` extra), and the content sniffing that decides which files are accepted at all.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path
from typing import Protocol

from tenants.settings import Settings

# Allowed types, recognised by their first bytes (never by the file name or the client's content type).
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf2", "audio/mpeg"),
]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The file name ending a download is given, by media type.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "audio/mpeg": ".mp3", DOCX: ".docx"}


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` if it is one of the allowed types, else None."""
    for magic, media_type in _SIGNATURES:
        if data.startswith(magic):
            return media_type
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            return None
    return None


class Storage(Protocol):
    async def put(self, key: str, data: bytes, media_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)


class S3Storage:
    """Any S3-compatible store (AWS, MinIO, Ceph); credentials come from the usual AWS environment variables."""

    def __init__(self, bucket: str, endpoint_url: str | None, region: str | None) -> None:
        import boto3  # the optional ``s3`` extra

        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentType=media_type)

    async def get(self, key: str) -> bytes:
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        return await asyncio.to_thread(response["Body"].read)


def storage_from_settings(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        return S3Storage(settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region)
    return LocalStorage(Path(settings.data_dir) / "attachments")
