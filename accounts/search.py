"""Finding people by name: one query for the people page, group pickers and the JSON directory.

Who can be found is the operator's choice (DIRECTORY): everyone active (`all`, for a team), or
only people who already share a chat with the searcher (`shared`, for a server open to sign-up,
where a directory of everyone would hand out every account). On a shared server a stranger is
found by their exact username, as told by them: knowing a name is not listing everyone's.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from .folding import SEPARATOR, fold
from .models import User

# More words than this narrow nothing down in practice, and each one is another LIKE.
MAX_SEARCH_WORDS = 5


def _shared_with(viewer: User) -> Q:
    from conversations.models import Membership

    their_chats = Membership.objects.filter(user=viewer).values("chat_id")
    return Q(pk=viewer.pk) | Q(pk__in=Membership.objects.filter(chat_id__in=their_chats).values("user_id"))


def findable_by(viewer: User) -> QuerySet[User]:
    """The active people `viewer` may look up: everyone, or with DIRECTORY=shared themselves and
    those in a chat with them."""
    people = User.objects.filter(is_active=True)
    if settings.DIRECTORY == "shared":
        people = people.filter(_shared_with(viewer))
    return people


def search_people(query: str, viewer: User) -> QuerySet[User]:
    """People `viewer` may find with every word of `query` in their username, first or last name
    (with DIRECTORY=shared: people in a chat with them, or whose username is the whole query).

    Any case and any alphabet, ё and е alike (accounts.folding), by username. An empty query
    matches everyone findable. `%` and `_` are matched literally (contains escapes them).
    """
    people = User.objects.filter(is_active=True)
    if settings.DIRECTORY == "shared":
        visible = _shared_with(viewer)
        if query.strip():
            # The username is the first part of search_name: the whole of it, and nothing else.
            visible |= Q(search_name__startswith=fold(query.strip()) + SEPARATOR)
        people = people.filter(visible)
    for word in query.split()[:MAX_SEARCH_WORDS]:
        people = people.filter(search_name__contains=fold(word))
    return people.order_by(Lower("username"))
