"""`manage.py seed_demo`: a believable cast and their chats, for a demo and for the README's screenshots.

Every chat, member and message is made by `conversations.actions`, as the pages make them,
so the demo shows what the app really stores. The actions stamp everything "now"; to read
like a real week, each step is then moved back to when the story says it happened
(`Timeline.stamp`: only timestamps, in the order the messages were sent).

    manage.py seed_demo                      # alice, bob, ... with the password demo-password-123
    manage.py seed_demo --password secret    # another password for all of them
    manage.py seed_demo --reset              # delete the demo people and their chats, then seed again
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import User
from conversations import actions
from conversations.models import Chat, Membership, Message
from flowchat.images import CHAT_PHOTO, PICTURE, THUMBNAIL, clean_image, clean_images

DEFAULT_PASSWORD = "demo-password-123"  # noqa: S105 (demo data, printed by the command)


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    bio: str


CAST = [
    Person("alice", "Alice", "Martin", "Product designer in Lyon. Climbs on weekends, answers on weekdays."),
    Person("bob", "Bob", "Okafor", "Backend engineer. Usually at the bouldering gym after six."),
    Person("carol", "Carol", "Nguyen", "Photographer: mountains, markets and the occasional cat."),
    Person("dmitri", "Dmitri", "Sokolov", "Translator, Russian ⇄ English. Tea over coffee, always."),
    Person("elena", "Elena", "García", "Runs the Thursday book club. Ask me for a recommendation."),
    Person("farid", "Farid", "Haddad", "Cyclist, amateur baker, professional over-planner."),
    Person("grace", "Grace", "Lin", "Architect. Collects old maps and bad puns."),
]
USERNAMES = [person.username for person in CAST]


@dataclass
class Demo:
    """What was seeded: everyone by username, alice's direct chats by the other's username, the groups."""

    people: dict[str, User]
    direct: dict[str, Chat] = field(default_factory=dict)
    groups: dict[str, Chat] = field(default_factory=dict)


class Timeline:
    """Moves what the actions just made back to when the story says it happened.

    Everything the actions make during the seed is stamped at or after `now`, and every
    story time is before it, so "not stamped yet" is simply "stamped at or after now".
    """

    def __init__(self) -> None:
        self.now = timezone.now()

    def ago(self, *, days: int = 0, hours: int = 0, minutes: int = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def stamp(self, chat: Chat, when: datetime) -> None:
        if when >= self.now:
            raise ValueError("Story times must be in the past.")
        made = Message.objects.filter(chat=chat, created_at__gte=self.now).update(created_at=when)
        Message.objects.filter(chat=chat, edited_at__gte=self.now).update(edited_at=when)
        Membership.objects.filter(chat=chat, joined_at__gte=self.now).update(joined_at=when)
        Chat.objects.filter(pk=chat.pk, created_at__gte=self.now).update(created_at=when)
        if made:
            Chat.objects.filter(pk=chat.pk).update(last_activity_at=when)


# Pictures ---------------------------------------------------------------------------------------


def landscape(size: tuple[int, int], sky: tuple[int, int, int], hills: tuple[str, str], sun: str) -> Image.Image:
    """A small painted landscape, so a picture message shows a picture rather than a flat square."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    top, bottom = sky, (250, 214, 165)
    for y in range(height):
        t = y / height
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    radius = width * 0.07
    cx, cy = width * 0.68, height * 0.32
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=sun)
    far, near = hills
    draw.polygon([(0, height), (width * 0.3, height * 0.42), (width * 0.62, height)], fill=far)
    draw.polygon(
        [(width * 0.45, height), (width * 0.78, height * 0.5), (width, height * 0.75), (width, height)], fill=far
    )
    draw.polygon(
        [(0, height), (0, height * 0.8), (width * 0.5, height * 0.68), (width, height * 0.88), (width, height)],
        fill=near,
    )
    return image


def upload(image: Image.Image, name: str) -> SimpleUploadedFile:
    """The picture as a PNG upload, as a browser would send it."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def picture_message(image: Image.Image, name: str):
    """The (full size, thumbnail) pair `actions.send_message` takes, made as the message form makes it."""
    return tuple(clean_images(upload(image, name), [PICTURE, THUMBNAIL]))


# Seeding ----------------------------------------------------------------------------------------
# The few emoji in the story are ones plain DejaVu Sans has, so screenshots show no empty boxes.


def existing_demo_people() -> list[str]:
    return sorted(
        User.objects.annotate(lower=Lower("username")).filter(lower__in=USERNAMES).values_list("username", flat=True)
    )


def reset_demo() -> tuple[int, int]:
    """Delete the demo people, the chats only they are in, and those chats' files."""
    people = User.objects.annotate(lower=Lower("username")).filter(lower__in=USERNAMES)
    their_chats = Chat.objects.filter(memberships__user__in=people).distinct()
    # A chat someone else is also in stays, without the demo people (as if they deleted their accounts).
    only_theirs = their_chats.exclude(memberships__user__in=User.objects.exclude(pk__in=people.values("pk")))
    chat_ids = list(only_theirs.values_list("pk", flat=True))
    files = [
        name
        for image, thumbnail in Message.objects.filter(chat__in=chat_ids).values_list("image", "thumbnail")
        for name in (image, thumbnail)
        if name
    ] + [name for name in Chat.objects.filter(pk__in=chat_ids).values_list("photo", flat=True) if name]
    with transaction.atomic():
        Chat.objects.filter(pk__in=chat_ids).delete()
        deleted_people, _rows = people.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])
    return len(chat_ids), deleted_people


@transaction.atomic
def seed(password: str = DEFAULT_PASSWORD) -> Demo:
    """Create the cast and their chats; CommandError if any of the demo people already exists."""
    if existing := existing_demo_people():
        raise CommandError(
            f"The demo people already exist ({', '.join(existing)}). "
            "Run `manage.py seed_demo --reset` to delete them and their chats and seed again."
        )
    people = {
        person.username: User.objects.create_user(
            username=person.username,
            password=password,
            first_name=person.first_name,
            last_name=person.last_name,
            bio=person.bio,
        )
        for person in CAST
    }
    demo = Demo(people=people)
    time = Timeline()
    alice, bob, carol, dmitri, elena, grace = (people[n] for n in ("alice", "bob", "carol", "dmitri", "elena", "grace"))

    def direct(other: User) -> Chat:
        chat, _created = actions.get_or_create_direct_chat(alice, other)
        demo.direct[other.username] = chat
        return chat

    def say(chat: Chat, author: User, text: str = "", *, at: datetime, picture=None) -> Message:
        message, _created = actions.send_message(chat, author, text, picture=picture)
        time.stamp(chat, at)
        return message

    # Elena: the book club moved; read long ago.
    chat = direct(elena)
    say(chat, elena, "Book club moved to Thursday at 7, same café.", at=time.ago(days=5, hours=3))
    say(chat, alice, "Thanks! I'm halfway through the book, so no spoilers please!", at=time.ago(days=5, hours=2))
    say(chat, elena, "My lips are sealed. Bring your questions for the discussion!", at=time.ago(days=5, hours=1))
    actions.mark_read(chat, alice)

    # Carol: prints from a trip.
    chat = direct(carol)
    say(chat, carol, "I finally printed the photos from Chamonix!", at=time.ago(days=3, hours=4))
    say(chat, alice, "Oh nice! Can I have the one with the glacier?", at=time.ago(days=3, hours=4, minutes=-6))
    say(chat, carol, "Of course. I'll bring it on Saturday.", at=time.ago(days=3, hours=3))
    say(chat, alice, "You're the best. Framing it this weekend.", at=time.ago(days=3, hours=2))

    # Dmitri: half Russian, half English.
    chat = direct(dmitri)
    say(chat, dmitri, "Привет! Как прошла презентация?", at=time.ago(days=1, hours=5))
    say(chat, alice, "Привет! Хорошо, спасибо. The client loved the new onboarding.", at=time.ago(days=1, hours=4))
    say(chat, dmitri, "Отлично! Then dinner on Friday is on me.", at=time.ago(days=1, hours=4, minutes=-3))
    say(chat, alice, "Deal. The Georgian place on Rue Mercière?", at=time.ago(days=1, hours=3))
    say(chat, dmitri, "Конечно. I'll book a table for eight.", at=time.ago(days=1, hours=2))
    actions.mark_read(chat, alice)

    # Climbing: alice's group; Elena joins later; four messages alice has not read yet.
    photo = clean_image(
        upload(landscape((256, 256), (96, 150, 220), ("#3f6b5b", "#2d4f44"), "#ffe08a"), "climbing.png"), CHAT_PHOTO
    )
    group = actions.create_group(alice, "Climbing", [bob, carol, dmitri], photo=photo)
    demo.groups[group.title] = group
    time.stamp(group, time.ago(days=2, hours=6))
    say(group, alice, "A group so our plans stop getting lost in five different chats.", at=time.ago(days=2, hours=6))
    say(group, carol, "Finally!", at=time.ago(days=2, hours=5))
    actions.add_member(group, alice, elena)
    time.stamp(group, time.ago(days=1, hours=9))
    say(group, elena, "Hi all! Thanks for adding me. Total beginner here, be gentle 😅", at=time.ago(days=1, hours=8))
    say(
        group,
        alice,
        "Welcome! You'll love it. Saturday is a perfect first day.",
        at=time.ago(days=1, hours=8, minutes=-5),
    )
    say(group, dmitri, "Who's driving on Saturday?", at=time.ago(hours=1, minutes=30))
    say(group, bob, "I can take three people and the crash pads.", at=time.ago(hours=1, minutes=20))
    crag = landscape((960, 640), (226, 120, 90), ("#6b4a5b", "#3b2f44"), "#ffd27a")
    say(
        group,
        carol,
        "Sunset at the crag last week. The forecast for Saturday looks just as good ☀️",
        at=time.ago(minutes=40),
        picture=picture_message(crag, "crag.png"),
    )
    say(group, elena, "Count me in for the car, Bob!", at=time.ago(minutes=20))

    # Book club: Elena's group; two unread.
    club = actions.create_group(elena, "Thursday book club", [alice, grace, people["farid"]])
    demo.groups[club.title] = club
    time.stamp(club, time.ago(days=6))
    say(
        club,
        elena,
        "This month: “The Left Hand of Darkness”. Who has a copy to lend?",
        at=time.ago(hours=3, minutes=10),
    )
    say(club, grace, "I do! Alice, do you want it after me?", at=time.ago(hours=3))

    # Bob: the main chat; a picture, an edit, and two messages alice has not read yet.
    chat = direct(bob)
    say(chat, bob, "Are you coming climbing on Saturday?", at=time.ago(days=1, hours=2))
    say(chat, alice, "Yes! Which wall?", at=time.ago(days=1, hours=1, minutes=55))
    say(chat, bob, "The new one by the river. They opened two more routes last week.", at=time.ago(days=1, hours=1))
    rope = say(chat, alice, "Great, I'll bring the rope.", at=time.ago(days=1))
    actions.edit_message(rope, alice, "Great, I'll bring the rope. And snacks!")
    time.stamp(chat, time.ago(days=1, minutes=-2))
    view = landscape((800, 540), (90, 140, 220), ("#3f6b5b", "#2d4f44"), "#ffe08a")
    say(
        chat,
        bob,
        "The view from the top last time",
        at=time.ago(minutes=50),
        picture=picture_message(view, "view.png"),
    )
    say(chat, alice, "Wow, that's gorgeous 😍", at=time.ago(minutes=48))
    say(chat, bob, "Meet at nine by the entrance?", at=time.ago(minutes=6))
    say(chat, bob, "I'll grab coffee for both of us ☕", at=time.ago(minutes=5))

    # Everyone was last seen when they last wrote ("last seen 12:25" rather than "not seen yet").
    for person in people.values():
        last_wrote = person.messages.aggregate(last=Max("created_at"))["last"]
        User.objects.filter(pk=person.pk).update(last_active=last_wrote)
    return demo


class Command(BaseCommand):
    help = "Create demo people (alice, bob, carol, ...) and their chats, made by the same actions as the app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"Everyone's password (default: {DEFAULT_PASSWORD})."
        )
        parser.add_argument(
            "--reset", action="store_true", help="First delete the demo people and the chats only they are in."
        )

    def handle(self, *args, password: str, reset: bool, **options) -> None:
        with transaction.atomic():
            if reset:
                chats, _people = reset_demo()
                self.stdout.write(f"Deleted the demo people and {chats} chats.")
            demo = seed(password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(demo.people)} people and {len(demo.direct) + len(demo.groups)} chats. "
                f"Log in as alice with the password {password!r}."
            )
        )
