"""Files attached to messages: kept under random names, shown by their cleaned names, served to members only.

alice and bob chat; carol is the outsider, who gets 404 for every file of theirs. Files are sent
through the real form and action (or the pages and the API), as the product sends them.
"""

from __future__ import annotations

import io
import re
import uuid
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from conftest import make_person
from conversations import actions, broadcast
from conversations.attachments import MAX_ATTACHMENTS, clean_name, label_type, prepare
from conversations.forms import EditMessageForm, MessageForm
from conversations.models import Attachment, Chat, Message
from conversations.views import PAGE_SIZE
from flowchat.testing import auth
from tests.security.corpus import FILE_NAMES

HTMX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.4\n% not really a document\n"
HOSTILE_NAMES = dict(FILE_NAMES.values())


def a_file(name: str = "notes.pdf", content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def a_png(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#2e86c1").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def send_files(chat: Chat, author, *uploads: SimpleUploadedFile, text: str = "") -> Message:
    """Through the form, as the pages and the API send them."""
    form = MessageForm({"text": text}, {"files": list(uploads)})
    assert form.is_valid(), form.errors
    return actions.send_message(chat, author, form.cleaned_data["text"], files=form.cleaned_data["files"])[0]


def stored_files() -> list[str]:
    found = []
    for folder in default_storage.listdir("files")[0] if default_storage.exists("files") else []:
        found += [f"files/{folder}/{name}" for name in default_storage.listdir(f"files/{folder}")[1]]
    return sorted(found)


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def as_carol(client, carol):
    client.force_login(carol)
    return client


# Names and types -------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "shown"), HOSTILE_NAMES.items())
def test_a_name_is_shown_without_paths_controls_or_bidi_overrides(raw, shown):
    assert clean_name(raw) == shown


def test_a_long_name_is_bounded_and_keeps_its_extension():
    name = clean_name("x" * 500 + ".tar.gz")

    assert len(name) == 120
    assert name.endswith("….gz")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("report.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
        ("photo.png", "application/octet-stream"),  # an image type only for what verified as one
        ("no-extension", "application/octet-stream"),
        ("page.html", "text/html"),  # a label only: it is served as application/octet-stream
    ],
)
def test_the_type_is_a_label_from_the_name_never_an_unverified_image(name, content_type):
    assert label_type(name) == content_type


def test_a_picture_is_verified_and_re_encoded_with_a_thumbnail():
    prepared = prepare(a_png("holiday.PNG", size=(3000, 1500)))

    assert prepared.is_image and prepared.content_type == "image/webp"
    assert prepared.name == "holiday.webp"
    assert (prepared.width, prepared.height) == (2048, 1024)
    assert prepared.thumbnail is not None


def test_a_file_named_like_a_picture_that_is_not_one_stays_a_plain_file():
    prepared = prepare(a_file("cat.png", b"<html><script>alert(1)</script>", "image/png"))

    assert not prepared.is_image
    assert prepared.content_type == "application/octet-stream"
    assert prepared.name == "cat.png"
    assert prepared.thumbnail is None


# Sending ----------------------------------------------------------------------------------------


def test_a_message_may_be_files_only_stored_under_random_names_in_its_chats_folder(alice, chat):
    message = send_files(chat, alice, a_file("../../etc/passwd"), a_png())

    attachments = list(message.attachments.all())
    assert message.text == "" and message.attachment_count == 2
    assert [a.name for a in attachments] == ["passwd", "photo.webp"]
    for attachment in attachments:
        folder, name = attachment.file.name.rsplit("/", 1)
        assert folder == f"files/{chat.pk}"
        assert re.fullmatch(r"[0-9a-f]{32}\.(bin|webp)", name)
        assert "passwd" not in attachment.file.name and "photo" not in attachment.file.name
    assert attachments[0].size == len(PDF) and not attachments[0].is_image
    assert attachments[1].is_image and attachments[1].thumbnail.name.startswith(f"files/{chat.pk}/")
    assert default_storage.open(attachments[0].file.name).read() == PDF
    assert not default_storage.exists("etc/passwd")


def test_a_message_needs_text_a_picture_or_a_file(alice, chat):
    form = MessageForm({"text": "  "}, {})

    assert not form.is_valid()
    assert form.non_field_errors() == ["Write something or attach a file."]
    with pytest.raises(actions.ValidationError):
        actions.send_message(chat, alice, " ", files=[])


def test_at_most_ten_files_a_message(alice, chat):
    form = MessageForm({"text": ""}, {"files": [a_file(f"{n}.pdf") for n in range(MAX_ATTACHMENTS + 1)]})

    assert not form.is_valid()
    assert form.errors["files"] == ["A message can carry at most 10 files."]
    ten = MessageForm({"text": ""}, {"files": [a_file(f"{n}.pdf") for n in range(MAX_ATTACHMENTS)]})
    assert ten.is_valid()


def test_each_file_is_held_to_the_upload_limit_and_all_of_them_to_the_message_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.MESSAGE_UPLOAD_MAX_BYTES = 2500

    too_large = MessageForm({}, {"files": [a_file("big.bin", b"x" * 1001)]})
    together = MessageForm({}, {"files": [a_file(f"{n}.bin", b"x" * 900) for n in range(3)]})
    fine = MessageForm({}, {"files": [a_file(f"{n}.bin", b"x" * 800) for n in range(3)]})

    assert not too_large.is_valid()
    assert too_large.errors["files"] == ["“big.bin” is too large (1001\xa0bytes). The limit is 1000\xa0bytes a file."]
    assert not together.is_valid()
    assert "too large together" in together.errors["files"][0]
    assert fine.is_valid()


def test_an_empty_file_is_refused(alice, chat):
    form = MessageForm({}, {"files": [a_file("empty.txt", b"")]})

    assert not form.is_valid()
    assert "files" in form.errors


def test_a_failed_send_leaves_no_file_behind(alice, carol, chat):
    form = MessageForm({"text": ""}, {"files": [a_file()]})
    assert form.is_valid()

    with pytest.raises(actions.PermissionDenied):
        actions.send_message(chat, carol, "", files=form.cleaned_data["files"])

    assert stored_files() == []
    assert not Attachment.objects.exists()


def test_a_retried_send_with_files_stores_them_once(alice, chat):
    client_id = uuid.uuid4()
    for _ in range(2):
        form = MessageForm({"text": ""}, {"files": [a_file()]})
        assert form.is_valid()
        actions.send_message(chat, alice, "", files=form.cleaned_data["files"], client_id=client_id)

    assert Message.objects.filter(chat=chat).count() == 1
    assert len(stored_files()) == 1


# Editing and deleting -------------------------------------------------------------------------------


def test_a_files_only_message_may_lose_all_its_text_but_a_text_message_may_not(alice, chat):
    with_files = send_files(chat, alice, a_file(), text="see attached")
    text_only = actions.send_message(chat, alice, "just words")[0]

    form = EditMessageForm({"text": ""})
    assert form.is_valid()
    assert actions.edit_message(with_files, alice, form.cleaned_data["text"]).text == ""
    with pytest.raises(actions.ValidationError):
        actions.edit_message(text_only, alice, "")


def test_deleting_a_message_removes_its_files_once_it_commits(alice, chat, django_capture_on_commit_callbacks):
    message = send_files(chat, alice, a_file(), a_png())
    assert len(stored_files()) == 3  # the file, the picture and its thumbnail

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.delete_message(message, alice)
    assert len(stored_files()) == 3  # nothing before the commit
    for callback in callbacks:
        callback()

    assert stored_files() == []
    assert not Attachment.objects.exists()
    assert Message.objects.get(pk=message.pk).attachment_count == 0


# Pages ------------------------------------------------------------------------------------------------


def test_the_chat_shows_each_file_by_name_size_and_type_and_pictures_as_thumbnails(as_bob, alice, chat):
    message = send_files(chat, alice, a_file("Report 2026.pdf"), a_png("beach.png"))
    pdf, picture = message.attachments.all()

    html = as_bob.get(reverse("chat", args=[chat.pk])).content.decode()

    assert '<bdi class="attachment-name">Report 2026.pdf</bdi>' in html
    assert "attachment attachment-pdf" in html and "attachment attachment-image" in html
    assert f'href="{pdf.url}" download' in html
    assert f'<img src="{picture.thumbnail_url}" width="{picture.width}"' in html
    assert f'href="{picture.url}?download" download' in html
    assert "33\xa0bytes" in html  # the PDF's size, in words


def test_hostile_file_names_are_shown_as_text_never_as_markup_or_a_path(as_bob, alice, chat):
    send_files(chat, alice, *(a_file(name or "x") for name in HOSTILE_NAMES if name and name != ".."))

    html = as_bob.get(reverse("chat", args=[chat.pk])).content.decode()

    assert "<img src=x onerror" not in html and "<b onmouseover" not in html
    assert html.count('id="messages"') == 1
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html
    assert "{{ request.user.password }}.txt" in html
    assert "\u202e" not in html
    assert "etc/passwd" not in html and "windows" not in html
    assert all(a.file.name.startswith(f"files/{chat.pk}/") for a in Attachment.objects.all())


def test_the_composer_sends_files_without_javascript(client, alice, bob, chat):
    client.force_login(alice)

    response = client.post(reverse("chat", args=[chat.pk]), {"text": "", "files": [a_file(), a_file("b.txt", b"hi")]})

    assert response.status_code == 302
    message = chat.messages.get()
    assert [a.name for a in message.attachments.all()] == ["notes.pdf", "b.txt"]


def test_a_refused_file_comes_back_at_the_composer(client, alice, chat, settings):
    settings.UPLOAD_MAX_BYTES = 10
    client.force_login(alice)

    response = client.post(reverse("send_message", args=[chat.pk]), {"text": "hi", "files": [a_file()]}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    assert "is too large" in html
    assert 'id="composer-files" name="files" multiple data-files aria-invalid="true"' in html
    assert not chat.messages.exists()


def test_the_chat_page_takes_the_same_queries_for_one_message_with_files_and_fifty(client, alice):
    def chat_with(person, count):
        chat, _ = actions.get_or_create_direct_chat(alice, person)
        for n in range(count):
            send_files(chat, person if n % 2 else alice, a_file(f"{n}.pdf"), a_file(f"{n}.txt", b"t"), text=str(n))
        send_files(chat, person, a_png())  # unread: both open at the "new messages" divider
        return chat

    client.force_login(alice)
    client.get(reverse("accounts:settings"))  # last_active is written at most once a minute
    counts = []
    for chat in (chat_with(make_person("dave"), 1), chat_with(make_person("erin"), PAGE_SIZE)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("chat", args=[chat.pk])).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_new_message_with_files_is_pushed_with_them_and_no_query_for_them(alice, bob, chat):
    message = send_files(chat, alice, a_file("<b onclick=x>plan.pdf"))

    with CaptureQueriesContext(connection) as queries, mock.patch.object(broadcast.outbox, "put") as publishing:
        broadcast.message_created(message)

    assert len(queries.captured_queries) == 1  # the chat, as for any message
    event = publishing.call_args.args[1]
    assert "&lt;b onclick=x&gt;plan.pdf" in event["html"]["en"]["open"]
    assert event["data"]["attachments"][0]["name"] == "<b onclick=x>plan.pdf"


# Downloads ----------------------------------------------------------------------------------------------


def test_a_member_downloads_a_file_as_an_attachment_that_is_never_sniffed(as_bob, alice, chat):
    attachment = send_files(chat, alice, a_file("<img src=x onerror=alert(1)>.pdf")).attachments.get()

    response = as_bob.get(attachment.url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        'attachment; filename="<img src=x onerror=alert(1)>.pdf"; '
        "filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.pdf"
    )
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")


def test_a_download_names_the_file_in_utf8_and_in_ascii(as_bob, alice, chat):
    attachment = send_files(chat, alice, a_file('Отчёт "final".txt', b"hi")).attachments.get()

    disposition = as_bob.get(attachment.url)["Content-Disposition"]

    assert disposition == (
        "attachment; filename=\"_____ _final_.txt\"; filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%22final%22.txt"
    )


def test_a_verified_picture_is_shown_inline_and_downloads_on_request(as_bob, alice, chat):
    attachment = send_files(chat, alice, a_png("beach.png")).attachments.get()

    shown = as_bob.get(attachment.url)
    thumbnail = as_bob.get(attachment.thumbnail_url)
    saved = as_bob.get(attachment.download_url)

    assert shown["Content-Type"] == thumbnail["Content-Type"] == "image/webp"
    assert shown["Content-Disposition"].startswith('inline; filename="beach.webp"')
    assert saved["Content-Disposition"].startswith('attachment; filename="beach.webp"')
    assert shown["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("who", ["carol", "anonymous"])
def test_nobody_outside_the_chat_gets_its_files(client, alice, carol, chat, who):
    attachment = send_files(chat, alice, a_file(), a_png()).attachments.first()
    picture = send_files(chat, alice, a_png()).attachments.get()
    if who == "carol":
        client.force_login(carol)

    for url in (attachment.url, picture.url, picture.thumbnail_url):
        assert client.get(url).status_code == 404


def test_a_file_is_found_only_under_its_own_chats_path(as_bob, alice, bob, chat):
    attachment = send_files(chat, alice, a_file()).attachments.get()
    other = actions.create_group(bob, "Elsewhere")
    name = attachment.file.name.rsplit("/", 1)[-1]

    assert as_bob.get(f"/media/files/{other.pk}/{name}").status_code == 404
    assert as_bob.get(f"/media/files/{chat.pk}/..%2F{name}").status_code == 404


def test_a_deleted_messages_files_are_gone(as_bob, alice, chat):
    message = send_files(chat, alice, a_file())
    url = message.attachments.get().url

    actions.delete_message(message, alice)

    assert as_bob.get(url).status_code == 404


# The API ------------------------------------------------------------------------------------------------


def test_the_api_sends_files_as_repeated_multipart_parts(api, alice, chat):
    response = api.post(
        "/api/messages/",
        {"chat": str(chat.pk), "files": [a_file(), a_png("p.png")]},
        **auth(alice),
    )

    assert response.status_code == 201
    attachments = response.json()["attachments"]
    stored = Message.objects.get(pk=response.json()["id"]).attachments.all()
    assert attachments == [
        {
            "name": "notes.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
            "url": f"http://testserver{stored[0].url}",
            "thumbnail": None,
            "width": None,
            "height": None,
        },
        {
            "name": "p.webp",
            "size": stored[1].size,
            "content_type": "image/webp",
            "url": f"http://testserver{stored[1].url}",
            "thumbnail": f"http://testserver{stored[1].thumbnail_url}",
            "width": 64,
            "height": 48,
        },
    ]
    assert response.json()["text"] == "" and response.json()["image"] is None


def test_the_api_refuses_files_in_json_and_too_many(api, alice, chat):
    headers = auth(alice)

    as_json = api.post("/api/messages/", {"chat": chat.pk, "files": []}, content_type="application/json", **headers)
    too_many = api.post("/api/messages/", {"chat": str(chat.pk), "files": [a_file() for _ in range(11)]}, **headers)

    assert as_json.status_code == 400
    assert as_json.json()["errors"] == {"files": ["Upload files as multipart/form-data."]}
    assert too_many.status_code == 400
    assert too_many.json()["errors"] == {"files": ["A message can carry at most 10 files."]}


def test_the_api_refuses_a_body_over_the_message_limit_before_reading_it(api, alice, chat, settings):
    settings.MESSAGE_UPLOAD_MAX_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    with mock.patch("django.http.request.HttpRequest.parse_file_upload") as parsing:
        response = api.post(
            "/api/messages/", {"chat": str(chat.pk), "files": [a_file("a.bin", b"x" * 3000)]}, **auth(alice)
        )

    assert response.status_code == 413
    parsing.assert_not_called()


def test_an_outsider_cannot_send_files_to_a_chat(api, carol, chat):
    response = api.post("/api/messages/", {"chat": str(chat.pk), "files": [a_file()]}, **auth(carol))

    assert response.status_code == 404
    assert stored_files() == []


def test_the_api_history_takes_the_same_queries_for_few_and_many_messages_with_files(
    api, alice, bob, chat, django_assert_num_queries
):
    headers = auth(alice)
    api.get("/api/users/me/", **headers)
    counts = []
    for extra in (1, 30):
        for n in range(extra):
            send_files(chat, bob if n % 2 else alice, a_file(f"{n}.pdf"), a_png())
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/chats/{chat.pk}/get_messages/", {"limit": 200}, **headers)
        counts.append(len(queries))
        assert all(len(message["attachments"]) == 2 for message in response.json())

    assert counts[0] == counts[1] == 6  # token, chat, messages, reactions, attachments, read positions


def test_a_files_only_message_loses_its_text_through_the_api(api, alice, chat):
    message = send_files(chat, alice, a_file(), text="see attached")

    response = api.patch(f"/api/messages/{message.pk}/", {"text": ""}, content_type="application/json", **auth(alice))

    assert response.status_code == 200
    assert response.json()["text"] == "" and len(response.json()["attachments"]) == 1


def test_a_files_only_message_is_previewed_and_quoted_by_its_number_of_files(api, alice, bob, chat):
    message = send_files(chat, alice, a_file(), a_file("b.txt", b"b"))
    reply, _ = actions.send_message(chat, bob, "Got them", reply_to=message.pk)

    chats = api.get("/api/chats/", **auth(bob)).json()

    assert message.preview() == message.quote_text() == "2 files"
    assert chats[0]["last_message"] == "Got them"
    actions.delete_message(reply, bob)
    assert api.get("/api/chats/", **auth(bob)).json()[0]["last_message"] == "Message deleted"
    one = send_files(chat, alice, a_file())
    assert api.get("/api/chats/", **auth(bob)).json()[0]["last_message"] == "1 file" == one.preview()


def test_an_edited_message_with_files_is_pushed_with_its_files(alice, bob, chat):
    message = send_files(chat, alice, a_file("plan.pdf"), text="Plan")
    actions.edit_message(message, alice, "The plan")

    with mock.patch.object(broadcast.outbox, "put") as publishing:
        broadcast.message_changed(message.pk, "message.edited")

    event = publishing.call_args.args[1]
    assert "plan.pdf" in event["html"]["en"]["open"]
    assert [attachment["name"] for attachment in event["data"]["attachments"]] == ["plan.pdf"]
