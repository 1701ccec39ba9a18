"""A visitor's own photo: what ``dashboard.photos`` accepts, turns upright and refuses."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from dashboard import photos
from dashboard.photos import PhotoRefused


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def scene(width: int = 64, height: int = 40) -> Image.Image:
    """A landscape picture whose left half is red and right half blue: its way up shows."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    return image


def sideways(image: Image.Image) -> bytes:
    """``image`` as a phone stores it: pixels turned, EXIF orientation 6 to turn them back."""
    exif = Image.Exif()
    exif[photos.ORIENTATION] = 6
    return encoded(image.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif)


def test_an_upright_jpeg_goes_to_the_model_as_it_came():
    data = encoded(scene(), "JPEG")
    upload = photos.prepare(data)
    assert upload.model_jpeg == data
    assert (upload.width, upload.height) == (64, 40)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_become_jpeg(fmt):
    upload = photos.prepare(encoded(scene().convert("RGBA"), fmt))
    with Image.open(io.BytesIO(upload.model_jpeg)) as image:
        assert image.format == "JPEG" and image.size == (64, 40)


def test_a_sideways_phone_photo_is_turned_upright():
    upload = photos.prepare(sideways(scene()))
    assert (upload.width, upload.height) == (64, 40)
    for data in (upload.model_jpeg, upload.preview_jpeg):
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (64, 40)
            red, _, blue = image.convert("RGB").getpixel((5, 20))
            assert red > 200 and blue < 60  # red on the left, as the scene was taken


def test_the_preview_is_small():
    upload = photos.prepare(encoded(scene(3000, 2000), "JPEG"))
    with Image.open(io.BytesIO(upload.preview_jpeg)) as image:
        assert image.size == (photos.PREVIEW_SIDE, 683)


def cut(fmt: str) -> bytes:
    """A noisy photo's file cut off halfway, as a broken download leaves it."""
    data = encoded(Image.effect_noise((400, 300), 60).convert("RGB"), fmt)
    return data[:len(data) // 2]


def animated_gif_as_webp() -> bytes:
    frames = [scene(), scene().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:])


@pytest.mark.parametrize(("data", "message"), [
    (b"", photos.EMPTY),
    (b"hello, not a photo", photos.NOT_AN_IMAGE),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", photos.NOT_AN_IMAGE),
    (encoded(scene(), "GIF"), photos.NOT_AN_IMAGE),  # a format the page does not take
    (cut("JPEG"), photos.TRUNCATED),
    (cut("PNG"), photos.TRUNCATED),
    (b"\xff\xd8" + b"\0" * (photos.MAX_BYTES - 1), photos.TOO_BIG),
    (encoded(Image.new("L", (8000, 5001)), "PNG"), photos.TOO_MANY_PIXELS),
    (animated_gif_as_webp(), photos.ANIMATED),
], ids=["empty", "text", "pdf", "gif", "truncated-jpeg", "truncated-png", "over-10mb",
        "over-40mp", "animated"])
def test_bad_files_are_refused_with_their_reason(data, message):
    with pytest.raises(PhotoRefused) as refused:
        photos.prepare(data)
    assert str(refused.value) == message


def test_data_urls():
    assert photos.from_data_url("data:image/jpeg;base64," + base64.b64encode(b"x").decode()) \
        == b"x"
    for bad in ("", "hello", "data:image/jpeg,abc", "data:image/jpeg;base64,@@@"):
        with pytest.raises(PhotoRefused):
            photos.from_data_url(bad)
