"""A session or an API token that ends takes its open sockets with it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import ApiToken

from . import actions


@receiver(user_logged_out, dispatch_uid="conversations.close_session_sockets")
def close_session_sockets(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and request is not None and request.session.session_key:
        actions.close_sockets(user.pk, session=request.session.session_key)


@receiver(post_delete, sender=ApiToken, dispatch_uid="conversations.close_token_sockets")
def close_token_sockets(sender: type[ApiToken], instance: ApiToken, **kwargs: Any) -> None:
    actions.close_sockets(instance.user_id, token=instance.pk)
