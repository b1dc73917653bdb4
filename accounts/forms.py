"""Profile and preference forms, shared by the pages and the JSON API."""

from __future__ import annotations

from functools import partial

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from flowchat.images import AVATAR, clean_image

from .models import User
from .timezones import MAX_LENGTH, validate_zone, zone_names


class ProfileForm(forms.ModelForm):
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
        help_text=_("JPEG, PNG, GIF or WebP. It is cropped to a square."),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my avatar"), label_suffix="", required=False)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "bio"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 3, "maxlength": 500})}
        help_texts = {"bio": _("A few words about you, up to 500 characters.")}

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        # ClearableFileInput gives back the current file when nothing new was chosen.
        if not upload or not hasattr(upload, "content_type"):
            return None
        return clean_image(upload, AVATAR)

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        new_avatar = self.cleaned_data.get("avatar")
        replaced = ""
        if new_avatar or self.cleaned_data.get("remove_avatar"):
            replaced = user.avatar.name if user.avatar else ""
            if new_avatar:
                user.avatar.save(new_avatar.name, new_avatar, save=False)
            else:
                user.avatar = ""
        if commit:
            user.save()
            if replaced:
                # Delete the old file only once the person no longer points at it, so a
                # failed or rolled-back save never leaves a broken avatar. (With
                # commit=False the caller saves, and the old file is left in place.)
                transaction.on_commit(partial(user.avatar.storage.delete, replaced))
        return user


class PreferencesForm(forms.Form):
    theme = forms.ChoiceField(label=_("Theme"), choices=User.Theme.choices, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=User._meta.get_field("language").choices, required=False)

    def clean(self):
        cleaned = super().clean()
        # An unknown choice already has its own error; this one is for an empty form.
        if not self.errors and not cleaned.get("theme") and not cleaned.get("language"):
            raise forms.ValidationError(_("Choose a theme or a language."))
        return cleaned


class TimeZoneForm(forms.Form):
    """The zone a person's pages show times in: an IANA name, typed or picked from the list."""

    timezone = forms.CharField(
        label=_("Time zone"),
        max_length=MAX_LENGTH,
        required=False,
        strip=True,
        validators=[validate_zone],
        help_text=_("A name like Europe/Moscow or Asia/Tokyo. Leave it empty to use your browser’s."),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )

    @staticmethod
    def zone_names() -> list[str]:
        return sorted(zone_names())
