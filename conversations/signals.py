"""A session or an API token that ends takes its open sockets with it (and a session, its push
device); a deleted attachment, its files.

A new password ends every other session of that person (each session holds a hash of the
password it logged in with). Their tabs' sockets are told to reconnect: a tab of the session
that changed it comes back (the browser has its new cookie), the others are refused.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import ApiToken, PushSubscription

from . import actions
from .models import Attachment


@receiver(user_logged_out, dispatch_uid="conversations.close_session_sockets")
def close_session_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and request is not None and request.session.session_key:
        actions.close_sockets(user.pk, session=request.session.session_key)


@receiver(user_logged_out, dispatch_uid="conversations.remove_session_devices")
def remove_session_devices(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Logging out removes the device this session turned notifications on for (the settings page)."""
    if user is not None and request is not None and request.session.session_key:
        PushSubscription.objects.filter(user=user, session_key=request.session.session_key).delete()


@receiver(password_changed, dispatch_uid="conversations.reconnect_every_tab_changed")
@receiver(password_set, dispatch_uid="conversations.reconnect_every_tab_set")
@receiver(password_reset, dispatch_uid="conversations.reconnect_every_tab_reset")
def reconnect_every_tab(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    actions.close_sockets(user.pk, all_sessions=True)


@receiver(post_delete, sender=ApiToken, dispatch_uid="conversations.close_token_sockets")
def close_token_sockets(sender: type[ApiToken], instance: ApiToken, **kwargs: Any) -> None:
    actions.close_sockets(instance.user_id, token=instance.pk)


@receiver(post_delete, sender=Attachment, dispatch_uid="conversations.forget_files")
def forget_files(sender: type[Attachment], instance: Attachment, **kwargs: Any) -> None:
    """An attachment gone (its message deleted, its chat deleted) takes its stored files with it,
    once that commits: a rollback keeps both the row and the file."""
    names = [field.name for field in (instance.file, instance.thumbnail) if field]
    storage = instance.file.storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names], robust=True)
