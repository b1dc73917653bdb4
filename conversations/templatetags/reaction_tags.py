"""What the reactions bar needs from a message (templates/conversations/_reactions.html)."""

from __future__ import annotations

from django import template

from conversations.emoji import DEFAULT_REACTIONS
from conversations.models import Message, ReactionGroup, reaction_groups

register = template.Library()

# A button's tooltip names this many people; the reactions page lists them all.
NAMES_SHOWN = 10


@register.filter
def reactions_of(message: Message) -> list[ReactionGroup]:
    return reaction_groups(message)


@register.filter
def reacted(group: ReactionGroup, user_id: int | None) -> bool:
    return group.has(user_id)


@register.filter
def first_names(group: ReactionGroup) -> list[str]:
    return [person.display_name for person in group.people[:NAMES_SHOWN]]


@register.filter
def more_names(group: ReactionGroup) -> int:
    return max(0, group.count - NAMES_SHOWN)


@register.simple_tag
def default_reactions() -> tuple[str, ...]:
    return DEFAULT_REACTIONS
