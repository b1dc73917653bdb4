"""Finding people by name: one query for the people page, group pickers and the JSON directory.

Who can be found is the operator's choice (DIRECTORY): everyone active (`all`, for a team), or
only people who already share a chat with the searcher (`shared`, for a server open to sign-up,
where a directory of everyone would hand out every account).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Lower

from .folding import fold
from .models import User

# More words than this narrow nothing down in practice, and each one is another LIKE.
MAX_SEARCH_WORDS = 5


def findable_by(viewer: User) -> QuerySet[User]:
    """The active people `viewer` may find: everyone, or with DIRECTORY=shared those in a chat with them."""
    people = User.objects.filter(is_active=True)
    if settings.DIRECTORY == "shared":
        from conversations.models import Membership

        their_chats = Membership.objects.filter(user=viewer).values("chat_id")
        people = people.filter(pk__in=Membership.objects.filter(chat_id__in=their_chats).values("user_id"))
    return people


def search_people(query: str, viewer: User) -> QuerySet[User]:
    """People `viewer` may find with every word of `query` in their username, first or last name.

    Any case and any alphabet, ё and е alike (accounts.folding), by username. An empty query
    matches everyone findable. `%` and `_` are matched literally (contains escapes them).
    """
    people = findable_by(viewer)
    for word in query.split()[:MAX_SEARCH_WORDS]:
        people = people.filter(search_name__contains=fold(word))
    return people.order_by(Lower("username"))
