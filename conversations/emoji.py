"""Whether a piece of text is exactly one emoji, as people type and pick them.

No Unicode emoji table ships with Python, so this is a small grammar of the emoji sequences
that Unicode defines (UTS #51, ED-14 onwards), over the code point ranges that hold emoji:

    emoji      = flag | keycap | tag_seq | zwj_seq
    flag       = regional_indicator regional_indicator
    keycap     = [0-9#*] FE0F? 20E3
    tag_seq    = 1F3F4 tag{1,30} E007F                   (England, Scotland, Wales)
    zwj_seq    = element (200D element){0,9}
    element    = base (FE0F | FE0E)? modifier?           (modifier: the five skin tones)

It accepts every emoji that a keyboard or picker produces and refuses text ("ab"), two
emoji ("👍👍"), lone modifiers or joiners, and control or format characters. It may accept
a sequence that no font draws as one picture (two people joined by ZWJ that Unicode does not
list): that is harmless, and shows as its parts.
"""

from __future__ import annotations

# Code points that are (or begin) an emoji: Unicode 15.1's Extended_Pictographic, in ranges.
_PICTOGRAPHIC: tuple[tuple[int, int], ...] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)
_SKIN_TONES = range(0x1F3FB, 0x1F3FF + 1)
_REGIONAL = range(0x1F1E6, 0x1F1FF + 1)
_TAGS = range(0xE0020, 0xE007E + 1)
_CANCEL_TAG = 0xE007F
_BLACK_FLAG = 0x1F3F4
_ZWJ = 0x200D
_EMOJI_STYLE, _TEXT_STYLE = 0xFE0F, 0xFE0E
_KEYCAP = 0x20E3
_KEYCAP_BASES = frozenset(map(ord, "0123456789#*"))

# The longest real emoji (a family, a flag of a region) is well under this.
MAX_CODE_POINTS = 32
MAX_ELEMENTS = 10
MAX_TAGS = 30

# What the reaction picker offers; any other single emoji may be typed.
DEFAULT_REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🎉")


def _pictographic(point: int) -> bool:
    if point in _SKIN_TONES or point in _REGIONAL:
        return False  # parts of a sequence, never an emoji alone here
    low, high = 0, len(_PICTOGRAPHIC) - 1
    while low <= high:
        middle = (low + high) // 2
        first, last = _PICTOGRAPHIC[middle]
        if point < first:
            high = middle - 1
        elif point > last:
            low = middle + 1
        else:
            return True
    return False


def _element(points: list[int], at: int) -> int | None:
    """The end of the element (base, style, skin tone) that starts at `at`, or None."""
    if at >= len(points) or not _pictographic(points[at]):
        return None
    at += 1
    if at < len(points) and points[at] in (_EMOJI_STYLE, _TEXT_STYLE):
        at += 1
    if at < len(points) and points[at] in _SKIN_TONES:
        at += 1
    return at


def _emoji_end(points: list[int], at: int) -> int | None:
    """The end of the one emoji that starts at `at`, or None if no emoji starts there."""
    if at + 1 < len(points) and points[at] in _REGIONAL and points[at + 1] in _REGIONAL:
        return at + 2  # a flag
    if points[at] in _KEYCAP_BASES:
        for tail in ([_KEYCAP], [_EMOJI_STYLE, _KEYCAP]):
            if points[at + 1 : at + 1 + len(tail)] == tail:
                return at + 1 + len(tail)
        return None
    if points[at] == _BLACK_FLAG:
        end = at + 1
        while end < len(points) and end - at <= MAX_TAGS and points[end] in _TAGS:
            end += 1
        if end > at + 1 and end < len(points) and points[end] == _CANCEL_TAG:
            return end + 1
    end, elements = _element(points, at), 1
    while end is not None and end < len(points) and points[end] == _ZWJ and elements < MAX_ELEMENTS:
        end, elements = _element(points, end + 1), elements + 1
    return end


def is_single_emoji(text: str) -> bool:
    """True if `text` is exactly one emoji: one grapheme, and a picture (not a letter, digit or mark)."""
    points = [ord(character) for character in text]
    if not points or len(points) > MAX_CODE_POINTS:
        return False
    return _emoji_end(points, 0) == len(points)


def emoji_count(text: str, limit: int = 50) -> int | None:
    """How many emoji `text` is made of (spaces between them allowed), or None if it holds anything
    else or more than `limit` of them: what decides that a message shows as large emoji."""
    points = [ord(character) for character in text.strip()]
    at, count = 0, 0
    while at < len(points):
        if chr(points[at]).isspace():
            at += 1
            continue
        end = _emoji_end(points, at)
        if end is None or end - at > MAX_CODE_POINTS or count >= limit:
            return None
        at, count = end, count + 1
    return count
