"""Read receipts: how far each member of a chat has read, and who has seen a message."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from accounts.models import User

from .models import Membership, Message

# "Seen by 40" names this many of them, and "and 30 more": the HTML of a message is the same
# for every member and goes into every page and push, so it must not grow with the group.
NAMES_SHOWN = 10


@dataclass(frozen=True)
class Seen:
    """Who other than its author has read a message: how many, and the first names in alphabetical order."""

    count: int
    names: tuple[str, ...] = ()

    @property
    def more(self) -> int:
        return self.count - len(self.names)

    def __bool__(self) -> bool:
        return self.count > 0


class ReadPositions:
    """Every member's read position in one chat, from one query; a message's answers are then O(log members)."""

    def __init__(self, positions: Mapping[int, int], names: Mapping[int, str] | None = None) -> None:
        self.positions = dict(positions)
        self.ranked = sorted(self.positions.values())
        # Members' display names, for "Seen by" (empty where only the counts are needed).
        self.names = dict(names or {})
        self._furthest_first: list[tuple[int, int]] | None = None

    @classmethod
    def of(cls, chat_id: int) -> ReadPositions:
        """From one query, with the members' names (joined in the same query)."""
        rows = Membership.objects.filter(chat_id=chat_id).values_list(
            "user_id", "last_read_message_id", "user__username", "user__first_name", "user__last_name"
        )
        positions, names = {}, {}
        for user_id, position, username, first_name, last_name in rows:
            positions[user_id] = position or 0
            names[user_id] = User(username=username, first_name=first_name, last_name=last_name).display_name
        return cls(positions, names)

    @classmethod
    def from_memberships(cls, memberships: Iterable[Membership]) -> ReadPositions:
        """From memberships loaded with their users (select_related), as the chat page has them."""
        memberships = list(memberships)
        return cls(
            {m.user_id: m.last_read_message_id or 0 for m in memberships},
            {m.user_id: m.user.display_name for m in memberships},
        )

    def seen_by(self, message: Message) -> int:
        """How many members other than the author have read up to this message."""
        count = len(self.ranked) - bisect_left(self.ranked, message.pk)
        if self.positions.get(message.author_id, 0) >= message.pk:
            count -= 1
        return count

    def seen(self, message: Message) -> Seen:
        """How many have read `message` and, of those, the first NAMES_SHOWN names alphabetically."""
        count = self.seen_by(message)
        if not count or not self.names:
            return Seen(count)
        if self._furthest_first is None:
            self._furthest_first = sorted(((-position, user_id) for user_id, position in self.positions.items()))
        # The readers are the members read furthest, down to this message: a prefix of that list.
        readers = self._furthest_first[: bisect_left(self._furthest_first, (-message.pk, float("inf")))]
        names = (self.names[user_id] for _position, user_id in readers if user_id != message.author_id)
        return Seen(count, tuple(heapq.nsmallest(NAMES_SHOWN, names, key=str.casefold)))

    def is_read(self, message: Message) -> bool:
        """True when every member but the author has read it; false when nobody else is there."""
        others = len(self.positions) - (1 if message.author_id in self.positions else 0)
        return others > 0 and self.seen_by(message) == others
