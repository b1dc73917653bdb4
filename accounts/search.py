"""Finding people by name: one query for the people page, group pickers and the JSON directory."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from .models import User

# More words than this narrow nothing down in practice, and each one is another pair of LIKEs.
MAX_SEARCH_WORDS = 5


def search_people(query: str) -> QuerySet[User]:
    """Active people with every word of `query` in their username, first or last name, by username.

    An empty query matches everyone. `%` and `_` are matched literally (icontains escapes them).
    """
    people = User.objects.filter(is_active=True)
    for word in query.split()[:MAX_SEARCH_WORDS]:
        people = people.filter(
            Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
    return people.order_by(Lower("username"))
