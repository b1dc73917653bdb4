"""People and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from flowchat.images import random_name

from .folding import search_name
from .timezones import MAX_LENGTH as ZONE_LENGTH
from .timezones import validate_zone


def avatar_path(instance: User, filename: str) -> str:
    return random_name("avatars", filename)


class User(AbstractUser):
    class Theme(models.TextChoices):
        SYSTEM = "system", _("System")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    # None until the person writes one (the original API's new user has "bio": null).
    bio = models.TextField(_("bio"), max_length=500, blank=True, null=True, default=None)
    last_active = models.DateTimeField(_("last active"), null=True, blank=True)
    # Online while this is in the future: every open socket pushes it forward (a heartbeat),
    # so a person whose server process died goes offline by themselves. See conversations.presence.
    online_until = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    theme = models.CharField(_("theme"), max_length=10, choices=Theme, default=Theme.SYSTEM)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    # Username, first and last name folded (accounts.folding), kept in step on every save: what
    # people search matches against, alike on SQLite and PostgreSQL.
    search_name = models.TextField(editable=False, default="")
    # An IANA name ("Asia/Tokyo"); empty until the browser tells it (static/js/local-time.js)
    # or the person picks one. Pages show times in it; empty means the server's TIME_ZONE.
    timezone = models.CharField(_("time zone"), max_length=ZONE_LENGTH, blank=True, validators=[validate_zone])
    # Whether a push notification shows the message's text, or only who wrote in which chat.
    push_previews = models.BooleanField(_("show message text in notifications"), default=True)

    class Meta(AbstractUser.Meta):
        constraints = [
            # "Alice" and "alice" are the same person to everyone reading a chat.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def save(self, *args, **kwargs) -> None:
        self.search_name = search_name(self.username, self.first_name, self.last_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"username", "first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", args=[self.username])

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p.strip()]
        if not parts:
            parts = [self.username]
        return "".join(p.strip()[0] for p in parts[:2]).upper()

    @property
    def avatar_url(self) -> str:
        if self.avatar:
            return self.avatar.url
        return reverse("accounts:initials", args=[self.pk])

    @property
    def can_invite(self) -> bool:
        """May make invite links: only while sign-up is by invite, operators or (SIGNUP_INVITES_BY=members) anyone."""
        return (
            settings.SIGNUP == "invite"
            and self.is_active
            and (self.is_staff or settings.SIGNUP_INVITES_BY == "members")
        )

    @property
    def is_online(self) -> bool:
        return self.online_until is not None and self.online_until > timezone.now()

    @property
    def seen_just_now(self) -> bool:
        return self.last_active is not None and timezone.now() - self.last_active < timedelta(minutes=1)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def issue(self, user: User, *, name: str = "") -> tuple[ApiToken, str]:
        """Create a token and return it with its key, which is never stored and shown once."""
        key = secrets.token_urlsafe(32)
        token = self.create(user=user, key_hash=hash_token(key), name=name[:200])
        return token, key

    def authenticate(self, key: str) -> ApiToken | None:
        return self.select_related("user").filter(key_hash=hash_token(key), user__is_active=True).first()


class ApiToken(models.Model):
    """A key for scripts: the JSON API's `Authorization: Token <key>`; revoked at logout."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True, help_text=_("Client that asked for it"))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"


class Connection(models.Model):
    """One open socket (a browser tab or a script), for presence: online while any is unexpired.

    Its server process renews it with a heartbeat; a process that dies stops renewing, so
    its connections expire instead of leaving people online for ever.
    """

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections")
    expires_at = models.DateTimeField(db_index=True)
    # Whether the tab's page is shown (document.visibilityState, told over the socket). A person
    # with a visible tab sees new messages there and gets no push; a hidden tab does not count.
    visible = models.BooleanField(default=True)
    # When it was last hidden: a tab hidden after a message came had shown it (conversations.push).
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="connection_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} until {self.expires_at:%H:%M:%S}"


class InviteQuerySet(models.QuerySet["Invite"]):
    def usable(self) -> InviteQuerySet:
        """Not revoked, not expired, not used up: the condition a sign-up checks and consumes under."""
        now = timezone.now()
        return self.filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now),
            models.Q(max_uses__isnull=True) | models.Q(uses__lt=models.F("max_uses")),
            revoked_at__isnull=True,
        )


class Invite(models.Model):
    """A join link (SIGNUP=invite): whoever has it may sign up, until it expires, is used up or revoked.

    The token is kept so its link can be shown and copied again (as Campfire's join link is);
    it is looked up by its hash, so the database's comparison tells nothing about it.
    """

    token = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invites", verbose_name=_("made by")
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, help_text=_("Empty: never expires."))
    max_uses = models.PositiveIntegerField(
        _("sign-ups allowed"), null=True, blank=True, help_text=_("Empty: any number.")
    )
    uses = models.PositiveIntegerField(_("sign-ups so far"), default=0, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = InviteQuerySet.as_manager()

    class Meta:
        verbose_name = _("invite link")
        verbose_name_plural = _("invite links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_by} ({self.created_at:%Y-%m-%d})"

    def save(self, *args, **kwargs) -> None:
        if not self.token:
            self.token = secrets.token_urlsafe(24)
            self.token_hash = hash_token(self.token)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("accounts:join", args=[self.token])

    @property
    def state(self) -> str:
        """Why it can or cannot be used now: usable, revoked, expired or used_up."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        if self.max_uses is not None and self.uses >= self.max_uses:
            return "used_up"
        return "usable"

    @property
    def can_be_used(self) -> bool:
        return self.state == "usable"


class PushSubscription(models.Model):
    """One device (a browser profile) that receives Web Push notifications for its person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    # The push service's URL for this device; checked to be https on a public host (accounts.push_endpoints).
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    # The session that registered it: logging out of that session removes the device.
    session_key = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification device")
        verbose_name_plural = _("notification devices")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"
