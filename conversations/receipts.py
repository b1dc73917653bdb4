"""Read receipts: how far each member of a chat has read, and who has seen a message."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping

from .models import Membership, Message


class ReadPositions:
    """Every member's read position in one chat, from one query; a message's answers are then O(log members)."""

    def __init__(self, positions: Mapping[int, int]) -> None:
        self.positions = dict(positions)
        self.ranked = sorted(self.positions.values())

    @classmethod
    def of(cls, chat_id: int) -> ReadPositions:
        rows = Membership.objects.filter(chat_id=chat_id).values_list("user_id", "last_read_message_id")
        return cls({user_id: position or 0 for user_id, position in rows})

    @classmethod
    def from_memberships(cls, memberships: Iterable[Membership]) -> ReadPositions:
        return cls({m.user_id: m.last_read_message_id or 0 for m in memberships})

    def seen_by(self, message: Message) -> int:
        """How many members other than the author have read up to this message."""
        count = len(self.ranked) - bisect_left(self.ranked, message.pk)
        if self.positions.get(message.author_id, 0) >= message.pk:
            count -= 1
        return count

    def is_read(self, message: Message) -> bool:
        """True when every member but the author has read it; false when nobody else is there."""
        others = len(self.positions) - (1 if message.author_id in self.positions else 0)
        return others > 0 and self.seen_by(message) == others
