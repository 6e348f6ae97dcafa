"""Safe handling of uploaded evidence files: type by content, size cap, random stored names.

The browser's content type and the file name are the uploader's claims; the first bytes
of the file decide what it is. Stored names are random, so an upload can neither guess
nor overwrite another file's path; the original name is kept only as text.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from promo.core.errors import rule

# Magic numbers of the formats a bureau files as evidence: scanned permits and photos.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str

    def stored_name(self) -> str:
        return f"{uuid.uuid4().hex}.{self.extension}"


def _clean_name(name: str | None, extension: str) -> str:
    """The uploader's name as a safe download name: no path, no control or reserved
    characters, no second extension, and the extension of the type the content was found to
    be (issue #16: "许可证.html" holding a PDF downloads as "许可证.pdf", never as a page)."""
    base = PurePath(unicodedata.normalize("NFKC", name or "")).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '\\/:*?"<>|')
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned.lstrip(".") else cleaned
    stem = stem.replace(".", "_").strip(" _") or "file"
    return f"{stem[:200]}.{extension}"


def check_upload(field: str, upload: UploadedFile | None) -> CheckedUpload:
    """Refuse an empty, oversized or unknown-type file with a message on ``field``."""
    if upload is None:
        raise rule(field, _("请选择要上传的文件。"))
    limit = settings.PROMO_EVIDENCE_MAX_BYTES
    if not upload.size:
        raise rule(field, _("文件是空的。"))
    if upload.size > limit:
        raise rule(
            field,
            _("文件过大（%(size).1f MB），上限为 %(limit).0f MB。")
            % {"size": upload.size / 1_048_576, "limit": limit / 1_048_576},
        )
    upload.seek(0)
    head = upload.read(16)
    match = next((sig for sig in _SIGNATURES if head.startswith(sig[0])), None)
    if match is None:
        raise rule(field, _("只能上传 PDF、JPEG 或 PNG 文件。"))
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        upload=upload,
        content_type=match[1],
        extension=match[2],
        size=upload.size,
        sha256=digest.hexdigest(),
        original_name=_clean_name(upload.name, match[2]),
    )
