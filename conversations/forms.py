"""Forms for chats and messages, shared by the pages, the JSON API and (later) the sockets."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from flowchat.images import CHAT_PHOTO, PICTURE, THUMBNAIL, clean_image, clean_images

from .attachments import MAX_ATTACHMENTS, clean_name, prepare
from .models import MESSAGE_MAX_LENGTH, TITLE_MAX_LENGTH

IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files under one name (`<input type="file" name="files" multiple>`): a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"),
        required=False,
        strip=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 1, "maxlength": MESSAGE_MAX_LENGTH}),
    )
    image = forms.FileField(
        label=_("Picture"), required=False, widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES})
    )
    # Files of any type (conversations.attachments): verified pictures among them get thumbnails.
    files = MultipleFileField(label=_("Files"), required=False)
    # Rendered by the server into each fresh composer, so a double submit or a retry
    # of the same form can be recognised and answered with the original message.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The message this one answers (actions.send_message checks it is in the chat).
    reply_to = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    # (A template's `form.files` is the `files` field, not the uploads: these say what was sent back.)
    @property
    def picture_to_choose_again(self) -> bool:
        """A picture came with a send refused for another reason: the browser does not keep it."""
        return bool(self.files.get("image")) and not self.has_error("image")

    @property
    def files_to_choose_again(self) -> bool:
        getter = getattr(self.files, "getlist", self.files.get)
        return bool(getter("files")) and not self.has_error("files")

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        return tuple(clean_images(upload, [PICTURE, THUMBNAIL]))

    def clean_files(self):
        uploads = self.cleaned_data.get("files") or []
        if len(uploads) > MAX_ATTACHMENTS:
            raise ValidationError(
                ngettext(
                    "A message can carry at most %(limit)d file.",
                    "A message can carry at most %(limit)d files.",
                    MAX_ATTACHMENTS,
                )
                % {"limit": MAX_ATTACHMENTS},
                code="too_many_files",
            )
        limit = settings.UPLOAD_MAX_BYTES
        for upload in uploads:
            if upload.size > limit:
                raise ValidationError(
                    _("“%(name)s” is too large (%(size)s). The limit is %(limit)s a file.")
                    % {
                        "name": clean_name(upload.name),
                        "size": filesizeformat(upload.size),
                        "limit": filesizeformat(limit),
                    },
                    code="file_too_large",
                )
        # The picture counts too: it is part of the same message.
        picture = self.files.get("image") if self.files else None
        total = sum(upload.size for upload in uploads) + (picture.size if picture else 0)
        if total > settings.MESSAGE_UPLOAD_MAX_BYTES:
            raise ValidationError(
                _("These files are too large together (%(size)s). The limit is %(limit)s a message.")
                % {"size": filesizeformat(total), "limit": filesizeformat(settings.MESSAGE_UPLOAD_MAX_BYTES)},
                code="files_too_large",
            )
        return [prepare(upload) for upload in uploads]

    def clean(self):
        cleaned = super().clean()
        empty = not (cleaned.get("text") or "").strip() and not cleaned.get("image") and not cleaned.get("files")
        if not self.errors and empty:
            raise ValidationError(_("Write something or attach a file."), code="empty")
        return cleaned


class EditMessageForm(forms.Form):
    # May be empty for a message of files or a picture; actions.edit_message refuses it for text alone.
    text = forms.CharField(
        label=_("Message"),
        required=False,
        strip=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
    )


class PeopleField(forms.ModelMultipleChoiceField):
    """Active people by id; unknown or inactive ids are a form error."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class GroupForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    members = PeopleField(label=_("Members"), required=False)
    photo = forms.FileField(
        label=_("Photo"), required=False, widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES})
    )

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload or not hasattr(upload, "content_type"):
            return None
        return clean_image(upload, CHAT_PHOTO)


class RenameGroupForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)


class GroupPhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"), required=False, widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES})
    )
    remove_photo = forms.BooleanField(label=_("Remove the photo"), label_suffix="", required=False)

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload or not hasattr(upload, "content_type"):
            return None
        return clean_image(upload, CHAT_PHOTO)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("photo") and not cleaned.get("remove_photo"):
            raise ValidationError(_("Choose a photo, or remove the current one."), code="empty")
        return cleaned


class PersonForm(forms.Form):
    """One person by id: whom to add, remove or write to."""

    user = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), label=_("Person"))
