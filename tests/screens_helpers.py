"""Helpers for the screen tests: photos with a GPS location, form posts with a fresh token."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825


def photo_with_gps(name: str = "photo.jpg", size=(3000, 2000)) -> SimpleUploadedFile:
    image = Image.new("RGB", size, (180, 40, 30))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (34.0, 3.0, 7.0), 3: "E", 4: (111.0, 2.0, 9.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def token_from(response) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', response.content.decode())
    assert match, "form has no one-time token"
    return match.group(1)


def post_form(client, url: str, data: dict, **kwargs):
    """GET the form (for its one-time token), then POST it."""
    token = token_from(client.get(url))
    return client.post(url, {**data, "form_token": token}, **kwargs)
