"""Uploaded pictures, through the profile form and the /settings/ page.

Every upload must come out as a freshly encoded WebP with nothing of the
uploader's file left in it (EXIF, GPS, name), and anything that is not a
picture, is damaged or is too large must be refused with a message on the
page, without writing a byte to MEDIA_ROOT.
"""

import io
import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from PIL import Image

from accounts.forms import ProfileForm

SETTINGS_URL = reverse("accounts:settings")
GPS_IFD = 0x8825
NOT_A_PICTURE = "This file is not one, or it is damaged."


def encode(image, format, **params):
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


def jpeg_with_gps(size=(400, 300)):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # camera make
    exif[GPS_IFD] = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}
    xmp = b"<x:xmpmeta><exif:GPSLatitude>55,45.35N</exif:GPSLatitude></x:xmpmeta>"
    data = encode(Image.new("RGB", size, "red"), "JPEG", exif=exif, xmp=xmp, comment=b"Home, 12 Elm St")
    # The fixture itself must carry the location, or the test proves nothing.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)[1] == "N"
    assert b"GPSLatitude" in data and b"Elm St" in data
    return data


def png_header_bomb(width, height):
    """A valid 1-bit PNG of width x height that compresses to a few kilobytes."""
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def open_stored(user):
    user.refresh_from_db()
    with user.avatar.open("rb") as handle:
        data = handle.read()
    return data, Image.open(io.BytesIO(data))


def post_avatar(client, file, **extra):
    return client.post(SETTINGS_URL, {"first_name": "Alice", "last_name": "Archer", "bio": "", "avatar": file, **extra})


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def alice_with_avatar(alice_client, alice, settings):
    response = post_avatar(alice_client, upload("first.png", encode(Image.new("RGB", (64, 64), "green"), "PNG")))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.avatar
    return alice


# Valid pictures ---------------------------------------------------------------


def test_avatar_upload_strips_exif_gps_and_comments_and_stores_a_256px_webp(alice_client, alice):
    response = post_avatar(alice_client, upload("holiday-in-moscow.jpg", jpeg_with_gps()))

    assert response.status_code == 302
    data, picture = open_stored(alice)
    assert picture.format == "WEBP"
    assert picture.size == (256, 256)
    assert dict(picture.getexif()) == {}
    assert "exif" not in picture.info
    assert b"Exif" not in data
    assert b"SpyCam" not in data
    assert b"GPSLatitude" not in data
    assert b"Elm St" not in data


def test_avatar_is_stored_under_a_random_name_not_the_uploaded_one(alice_client, alice, settings):
    post_avatar(alice_client, upload("holiday-in-moscow.jpg", jpeg_with_gps()))

    alice.refresh_from_db()
    assert re.fullmatch(r"avatars/[0-9a-f]{32}\.webp", alice.avatar.name)
    assert stored_files(settings) == [alice.avatar.name]
    assert "holiday" not in alice.avatar_url


def test_two_uploads_of_the_same_file_get_different_names(alice_client, alice, bob, client):
    data = jpeg_with_gps()
    post_avatar(alice_client, upload("me.jpg", data))
    client.force_login(bob)
    post_avatar(client, upload("me.jpg", data))

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.avatar.name != bob.avatar.name


def test_exif_orientation_is_applied_before_the_square_crop(alice):
    # A landscape picture, left half red and right half blue, tagged "rotate 90° clockwise".
    image = Image.new("RGB", (400, 200), "red")
    image.paste("blue", (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    form = ProfileForm({}, {"avatar": upload("phone.jpg", encode(image, "JPEG", exif=exif))}, instance=alice)
    assert form.is_valid(), form.errors
    form.save()

    _, picture = open_stored(alice)
    picture = picture.convert("RGB")
    # Upright it is portrait: red on top, blue below.
    top, bottom = picture.getpixel((128, 10)), picture.getpixel((128, 245))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_with_transparency_keeps_its_transparency(alice):
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (100, 100, 200, 200))
    form = ProfileForm({}, {"avatar": upload("logo.png", encode(image, "PNG"), "image/png")}, instance=alice)
    assert form.is_valid(), form.errors
    form.save()

    _, picture = open_stored(alice)
    assert picture.format == "WEBP"
    assert picture.mode == "RGBA"
    assert picture.getpixel((5, 5))[3] == 0
    assert picture.getpixel((128, 128))[3] == 255


def test_animated_gif_becomes_its_first_frame(alice):
    frames = [Image.new("RGB", (120, 120), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    form = ProfileForm({}, {"avatar": upload("wave.gif", data, "image/gif")}, instance=alice)
    assert form.is_valid(), form.errors
    form.save()

    _, picture = open_stored(alice)
    assert picture.format == "WEBP"
    assert getattr(picture, "n_frames", 1) == 1
    red, green, blue = picture.convert("RGB").getpixel((128, 128))
    assert red > 200 and green < 60 and blue < 60


def test_webp_upload_is_accepted(alice):
    data = encode(Image.new("RGB", (300, 500), "blue"), "WEBP")
    form = ProfileForm({}, {"avatar": upload("me.webp", data, "image/webp")}, instance=alice)
    assert form.is_valid(), form.errors
    form.save()

    _, picture = open_stored(alice)
    assert picture.size == (256, 256)


# Refused uploads --------------------------------------------------------------


def text_renamed_jpg():
    return upload("cat.jpg", b"I am definitely a cat picture.\n" * 20)


def truncated_jpeg():
    data = encode(Image.effect_noise((300, 300), 64).convert("RGB"), "JPEG")
    return upload("cut.jpg", data[: len(data) // 2])


def truncated_png():
    data = encode(Image.effect_noise((300, 300), 64).convert("RGB"), "PNG")
    return upload("cut.png", data[: len(data) // 2], "image/png")


def svg():
    return upload("me.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml")


def bmp():
    return upload("old.bmp", encode(Image.new("RGB", (30, 30), "red"), "BMP"), "image/bmp")


@pytest.mark.parametrize(
    "make_upload", [text_renamed_jpg, truncated_jpeg, truncated_png, svg, bmp], ids=lambda f: f.__name__
)
def test_a_file_that_is_not_a_usable_picture_is_refused_on_the_page(alice_with_avatar, client, settings, make_upload):
    before = stored_files(settings)
    old_name = alice_with_avatar.avatar.name

    response = post_avatar(client, make_upload())

    assert response.status_code == 400
    assert NOT_A_PICTURE in response.content.decode()
    assert stored_files(settings) == before
    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.avatar.name == old_name


def test_a_decompression_bomb_is_refused_as_too_large_without_decoding_it(alice_with_avatar, client, settings):
    before = stored_files(settings)
    data = png_header_bomb(20_000, 20_000)  # 400 megapixels in a few kilobytes
    assert len(data) < 100_000

    response = post_avatar(client, upload("bomb.png", data, "image/png"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "too many pixels" in page
    assert "The limit is 25 megapixels" in page
    assert stored_files(settings) == before
    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.avatar.name in before


def test_a_picture_over_the_pixel_limit_names_its_size(alice_with_avatar, client, settings):
    settings.UPLOAD_MAX_PIXELS = 100 * 100
    before = stored_files(settings)

    response = post_avatar(client, upload("big.png", encode(Image.new("RGB", (200, 150), "red"), "PNG")))

    assert response.status_code == 400
    assert "200 by 150 pixels" in response.content.decode()
    assert stored_files(settings) == before


def test_a_file_over_the_byte_limit_is_refused(alice_with_avatar, client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    before = stored_files(settings)
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "PNG")
    assert len(data) > 1000

    response = post_avatar(client, upload("big.png", data, "image/png"))

    assert response.status_code == 400
    assert "The file is too large" in response.content.decode()
    assert stored_files(settings) == before
    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.avatar.name in before


def test_a_refused_upload_keeps_the_other_fields_unsaved(alice_client, alice):
    response = alice_client.post(SETTINGS_URL, {"first_name": "Mallory", "avatar": text_renamed_jpg()})

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


# Replacing and removing -------------------------------------------------------


def test_replacing_an_avatar_deletes_the_old_file(
    alice_with_avatar, client, settings, django_capture_on_commit_callbacks
):
    old_name = alice_with_avatar.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        response = post_avatar(client, upload("second.jpg", jpeg_with_gps()))

    assert response.status_code == 302
    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.avatar.name != old_name
    assert stored_files(settings) == [alice_with_avatar.avatar.name]


def test_removing_the_avatar_deletes_the_file_and_falls_back_to_initials(
    alice_with_avatar, client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETTINGS_URL, {"first_name": "Alice", "last_name": "Archer", "remove_avatar": "on"})

    assert response.status_code == 302
    alice_with_avatar.refresh_from_db()
    assert not alice_with_avatar.avatar
    assert stored_files(settings) == []
    initials_url = reverse("accounts:initials", args=[alice_with_avatar.pk])
    assert alice_with_avatar.avatar_url == initials_url
    assert f'src="{initials_url}"' in client.get(SETTINGS_URL).content.decode()


def test_a_rolled_back_replacement_keeps_the_old_avatar_file(
    alice_with_avatar, settings, django_capture_on_commit_callbacks
):
    old_name = alice_with_avatar.avatar.name
    form = ProfileForm({}, {"avatar": upload("second.jpg", jpeg_with_gps())}, instance=alice_with_avatar)
    assert form.is_valid(), form.errors

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        form.save()
        raise RuntimeError("the database write failed")

    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.avatar.name == old_name
    assert old_name in stored_files(settings)


def test_saving_the_profile_without_a_new_file_keeps_the_avatar(alice_with_avatar, client, settings):
    before = stored_files(settings)

    response = client.post(SETTINGS_URL, {"first_name": "Alicia", "last_name": "Archer", "bio": "hi"})

    assert response.status_code == 302
    alice_with_avatar.refresh_from_db()
    assert alice_with_avatar.first_name == "Alicia"
    assert stored_files(settings) == before == [alice_with_avatar.avatar.name]


def test_uploaded_avatar_is_shown_on_the_profile_page(alice_with_avatar, client):
    page = client.get(alice_with_avatar.get_absolute_url()).content.decode()

    assert f'src="{alice_with_avatar.avatar.url}"' in page
    response = client.get(alice_with_avatar.avatar.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


def test_a_multi_picture_jpeg_from_a_camera_is_accepted(alice):
    # Many cameras and phones write MPO: a JPEG with a second picture appended.
    frames = [Image.new("RGB", (300, 200), "red"), Image.new("RGB", (300, 200), "blue")]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    form = ProfileForm({}, {"avatar": upload("DSCF0001.JPG", data)}, instance=alice)
    assert form.is_valid(), form.errors
    form.save()

    _, picture = open_stored(alice)
    red, _, blue = picture.convert("RGB").getpixel((128, 128))
    assert red > 200 and blue < 60
