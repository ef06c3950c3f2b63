"""Evidence photos: accept jpeg/png/webp/heic, downscale, drop all metadata (incl. GPS), store JPEG."""

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC from iPhones
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover
    pass

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "MPO"}

# Pillow's own guard, as a second line behind the check in ``evidence_prepare``: refuse to decode
# anything above twice the budget (Pillow raises DecompressionBombError there).
Image.MAX_IMAGE_PIXELS = settings.EVIDENCE_MAX_PIXELS


def evidence_prepare(upload) -> ContentFile:
    """Validate an uploaded photo and return a downscaled JPEG without EXIF (so no location)."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.EVIDENCE_MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "evidence": _("照片太大（%(size).1f MB），请选择不超过 %(limit)d MB 的照片。")
                % {"size": size / 1024 / 1024, "limit": settings.EVIDENCE_MAX_UPLOAD_BYTES // 1024 // 1024}
            }
        )
    not_a_photo = ValidationError({"evidence": _("上传的文件不是照片，请选择 JPG、PNG、WEBP 或 HEIC 格式的图片。")})
    too_many_pixels = ValidationError(
        {
            "evidence": _("照片像素太多，请选择不超过 %(limit)d 万像素的照片，或先在手机上缩小。")
            % {"limit": settings.EVIDENCE_MAX_PIXELS // 10_000}
        }
    )
    try:
        upload.seek(0)
        image = Image.open(upload)  # reads the header only: the size is known before decoding
        image_format = image.format
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise not_a_photo from None
    width, height = image.size
    if width * height > settings.EVIDENCE_MAX_PIXELS:
        raise too_many_pixels
    if image_format not in ALLOWED_FORMATS:
        raise not_a_photo
    try:
        image.load()
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise not_a_photo from None
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    image.thumbnail((settings.EVIDENCE_MAX_SIDE, settings.EVIDENCE_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)  # no exif= argument: metadata dropped
    name = (getattr(upload, "name", "photo") or "photo").rsplit("/", 1)[-1].rsplit(".", 1)[0][:40]
    return ContentFile(out.getvalue(), name=f"{name or 'photo'}.jpg")
