"""Invite links: finding one by its token, and using it up, one sign-up at a time.

A sign-up validates its invite with the form (so a bad one is an ordinary form error) and then
uses it in the transaction that creates the account: a conditional UPDATE counts the use only
while the link is still usable, so two sign-ups racing for a link's last use cannot both win,
and an account that fails to be created gives its use back (the transaction rolls back).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Invite, User, hash_token

# Longer than any token made here (token_urlsafe(24) is 32 characters): a longer one is no token.
MAX_TOKEN_LENGTH = 100

REFUSALS = {
    "invalid": _("This invite link is not valid. Ask whoever sent it for a new one."),
    "revoked": _("This invite link was revoked. Ask whoever sent it for a new one."),
    "expired": _("This invite link has expired. Ask whoever sent it for a new one."),
    "used_up": _("This invite link has been used as many times as it allows. Ask whoever sent it for a new one."),
}


def find_invite(token: str) -> Invite | None:
    """The invite with this token, or None. Looked up by hash, then compared in constant time."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    invite = Invite.objects.filter(token_hash=hash_token(token)).first()
    if invite is None or not secrets.compare_digest(invite.token, token):
        return None
    return invite


def check_invite(token: str) -> Invite:
    """The usable invite with this token; a ValidationError (its code says why) otherwise."""
    invite = find_invite(token)
    state = "invalid" if invite is None else invite.state
    if state != "usable":
        raise ValidationError(REFUSALS[state], code=state)
    return invite


def use_invite(token: str) -> Invite:
    """Count one sign-up on the invite; call it inside the transaction that creates the account."""
    invite = check_invite(token)
    # The condition is checked again by the database as it counts: the last use goes to one sign-up only.
    if not Invite.objects.usable().filter(pk=invite.pk).update(uses=F("uses") + 1):
        invite.refresh_from_db()
        state = invite.state if invite.state != "usable" else "used_up"
        raise ValidationError(REFUSALS[state], code=state)
    invite.uses += 1
    return invite


def make_invite(by: User, *, expires_in: timedelta | None = None, max_uses: int | None = None) -> Invite:
    """A new invite link made by `by` (who must be allowed: User.can_invite)."""
    expires_at = timezone.now() + expires_in if expires_in else None
    return Invite.objects.create(created_by=by, expires_at=expires_at, max_uses=max_uses)


def invites_managed_by(user: User):
    """The invites `user` sees and may revoke: an operator all of them, a member their own."""
    invites = Invite.objects.select_related("created_by")
    return invites if user.is_staff else invites.filter(created_by=user)


def revoke_invite(invite: Invite) -> None:
    if invite.revoked_at is None:
        Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
