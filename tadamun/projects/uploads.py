"""Files sent with micro-projects: what each may be, judged by its content or its name.

The service functions check every file they store (``photo``, ``evidence``, ``attachment``),
so pages, API and imports share one rule; the forms call the same checks to show the error
next to the field before the service is reached.
"""

import secrets
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_UPLOAD = 5 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_SUFFIXES = frozenset(
    {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods"}
)

# What an uploaded file really is, read from its first bytes (never from its name).
SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "pdf": (b"%PDF-",),
}
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


def sniff(head: bytes) -> str | None:
    """The kind of file (jpg, png, webp, pdf) its first bytes announce, if any."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for kind, starts in SIGNATURES.items():
        if any(head.startswith(start) for start in starts):
            return kind
    return None


def _checked_upload(upload, kinds: set[str], message):
    if not upload:
        return upload
    if getattr(upload, "_tadamun_checked", False):
        return upload
    if upload.size > MAX_UPLOAD:
        raise ValidationError(_("The file is larger than 5 MB."), code="too_large")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    kind = sniff(head)
    if kind not in kinds:
        raise ValidationError(message, code="file_type")
    # The stored name is ours: the extension matches the content, the rest is random.
    upload.name = f"{secrets.token_hex(8)}.{kind}"
    upload._tadamun_checked = True
    return upload


def checked_photo(upload):
    """A JPEG, PNG or WebP image of at most 5 MB, judged by its content."""
    return _checked_upload(
        upload,
        {"jpg", "png", "webp"},
        _("The photo must be a JPEG, PNG or WebP image."),
    )


def checked_evidence(upload):
    """A PDF or an image of at most 5 MB, judged by its content."""
    return _checked_upload(
        upload,
        {"pdf", "jpg", "png", "webp"},
        _("The document must be a PDF, or a JPEG, PNG or WebP image."),
    )


def validate_attachment(upload) -> None:
    """A document of an application: at most 10 MB, a PDF, a photo or an office document."""
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(_("A file can be at most 10 MB."))
    if Path(upload.name).suffix.lower() not in ATTACHMENT_SUFFIXES:
        raise ValidationError(_("Send a PDF, a photo (JPEG, PNG) or an office document."))
