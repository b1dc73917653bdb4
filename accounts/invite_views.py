"""The invite links page (SIGNUP=invite) and the join link itself.

The page lists the links its viewer manages, makes new ones and revokes them, with
JavaScript off like every page; with it, a button copies a link (static/js/invites.js).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .invites import MAX_TOKEN_LENGTH, invites_managed_by, make_invite, revoke_invite

# How many invites the page lists, newest first; older ones are in the admin.
SHOWN = 100


class InviteForm(forms.Form):
    expires_in = forms.TypedChoiceField(
        label=gettext_lazy("Expires"),
        choices=[
            ("", gettext_lazy("Never")),
            ("1", gettext_lazy("In a day")),
            ("7", gettext_lazy("In a week")),
            ("30", gettext_lazy("In 30 days")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
    )
    max_uses = forms.IntegerField(
        label=gettext_lazy("Sign-ups allowed"),
        min_value=1,
        max_value=10_000,
        required=False,
        help_text=gettext_lazy("Leave empty for any number."),
    )


def _inviter(request: HttpRequest) -> None:
    if not request.user.can_invite:
        # Not a page this server has for this person (another mode, or operators only).
        raise Http404("No invite links here.")


@login_required
@require_http_methods(["GET", "POST"])
def invites(request: HttpRequest) -> HttpResponse:
    _inviter(request)
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in"]
        invite = make_invite(
            request.user,
            expires_in=timedelta(days=days) if days else None,
            max_uses=form.cleaned_data["max_uses"],
        )
        messages.success(request, _("The invite link is made: copy it and send it to whoever you invite."))
        return redirect(f"{reverse('accounts:invites')}#invite-{invite.pk}")
    shown = [
        (invite, request.build_absolute_uri(invite.get_absolute_url()))
        for invite in invites_managed_by(request.user)[:SHOWN]
    ]
    return render(
        request,
        "accounts/invites.html",
        {"form": form, "invites": shown},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _inviter(request)
    invite = get_object_or_404(invites_managed_by(request.user), pk=pk)
    revoke_invite(invite)
    messages.success(request, _("The invite link is revoked: nobody can sign up with it any more."))
    return redirect("accounts:invites")


@require_GET
def join(request: HttpRequest, token: str) -> HttpResponse:
    """An invite link: the sign-up page with the invite filled in (it checks the invite itself)."""
    return redirect(f"{reverse('account_signup')}?{urlencode({'invite': token[:MAX_TOKEN_LENGTH]})}")
