"""The one access rule for chats, used by pages, the API, sockets and media: members only, else 404."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User

from .models import Chat, Message


def get_chat_for_user(user: User, pk: int) -> Chat:
    chat = Chat.objects.for_user(user).filter(pk=pk).first()
    if chat is None:
        # The same answer for "no such chat" and "not yours": an outsider learns nothing.
        raise Http404("No such chat.")
    return chat


def get_message_for_user(user: User, pk: int, *, chat: Chat | None = None) -> Message:
    messages = Message.objects.with_people().filter(pk=pk, chat__in=Chat.objects.for_user(user))
    if chat is not None:
        messages = messages.filter(chat=chat)
    message = messages.first()
    if message is None:
        raise Http404("No such message.")
    return message
