"""The sign-up page under SIGNUP=open|invite|closed (allauth's form and view, extended; the
adapter, accounts.adapters, says whether sign-up is open).

`closed`: allauth shows its "sign-up is closed" page. `invite`: the form asks for an invite
(prefilled when the person arrives by the link) and the account is created in the same
transaction that uses the invite up (accounts.invites).
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.views import SignupView as AllauthSignupView
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .invites import MAX_TOKEN_LENGTH, check_invite, use_invite


class SignupForm(AllauthSignupForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if settings.SIGNUP == "invite":
            self.fields["invite"] = forms.CharField(
                label=_("Invite"),
                max_length=MAX_TOKEN_LENGTH,
                help_text=_("Sign-up here is by invitation: this is filled in when you follow your invite link."),
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )

    def clean_invite(self) -> str:
        token = self.cleaned_data["invite"].strip()
        check_invite(token)
        return token

    def try_save(self, request: HttpRequest):
        if settings.SIGNUP != "invite":
            return super().try_save(request)
        with transaction.atomic():
            # Raises if the link's last use went to someone else since the form was checked.
            use_invite(self.cleaned_data["invite"])
            user, response = super().try_save(request)
            if user is None:
                # No account was made (an address already in use): the link keeps its use.
                transaction.set_rollback(True)
        return user, response


class SignupView(AllauthSignupView):
    def get_initial(self) -> dict[str, Any]:
        initial = super().get_initial()
        if settings.SIGNUP == "invite" and (token := self.request.GET.get("invite", "")):
            initial["invite"] = token[:MAX_TOKEN_LENGTH]
        return initial

    def form_valid(self, form: SignupForm) -> HttpResponse:
        if settings.SIGNUP != "invite":
            return super().form_valid(form)
        try:
            return super().form_valid(form)
        except ValidationError as error:
            # From use_invite in try_save: the link was checked with the form, then used up or
            # revoked before this sign-up could count on it.
            form.add_error("invite", error)
            return self.form_invalid(form)


signup = SignupView.as_view()
