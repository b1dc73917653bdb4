"""User text beside other text, isolated: a name holding a right-to-left override (U+202E) or
written right to left cannot reorder the line around it.

{% load bidi %}
{{ name|bdi }}      <bdi>name</bdi>: where HTML goes, e.g. as a blocktranslate value
{{ name|isolate }}  the name between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, where no
                    markup can go (<title>, attributes, confirm dialogs)

Elsewhere the templates write <bdi>{{ ... }}</bdi> themselves, and dir="auto" on message bodies.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"


@register.filter
def bdi(value: object) -> SafeString:
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def isolate(value: object) -> str:
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_DIRECTIONAL_ISOLATE}"
