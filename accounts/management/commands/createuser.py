"""`manage.py createuser NAME`: an operator makes an ordinary account (with SIGNUP=closed, the way in).

The password is asked twice at a terminal, or read as one line from standard input
(`echo "$PASSWORD" | manage.py createuser dora`), and held to the same rules as a sign-up.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from allauth.account.adapter import get_adapter
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from accounts.models import User


class Command(BaseCommand):
    help = "Create an ordinary (not staff) account, asking for its password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, username: str, email: str, first_name: str, last_name: str, **options: Any) -> None:
        adapter = get_adapter()
        try:
            username = adapter.clean_username(username)
            if email:
                email = adapter.clean_email(email)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        password = self._password()
        try:
            adapter.clean_password(password, user=User(username=username, email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        try:
            with transaction.atomic():
                User.objects.create_user(
                    username=username, email=email, password=password, first_name=first_name, last_name=last_name
                )
        except IntegrityError as error:
            raise CommandError("A user with that username already exists.") from error
        self.stdout.write(self.style.SUCCESS(f"Created {username}."))

    def _password(self) -> str:
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
