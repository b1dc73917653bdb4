"""Forms for chats and messages, shared by the pages, the JSON API and (later) the sockets."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from flowchat.images import CHAT_PHOTO, PICTURE, THUMBNAIL, clean_image, clean_images

from .models import MESSAGE_MAX_LENGTH, TITLE_MAX_LENGTH

IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp"


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
    # Rendered by the server into each fresh composer, so a double submit or a retry
    # of the same form can be recognised and answered with the original message.
    client_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # The message this one answers (actions.send_message checks it is in the chat).
    reply_to = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        return tuple(clean_images(upload, [PICTURE, THUMBNAIL]))

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("text") or "").strip() and not cleaned.get("image"):
            raise ValidationError(_("Write something or attach a picture."), code="empty")
        return cleaned


class EditMessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"),
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
