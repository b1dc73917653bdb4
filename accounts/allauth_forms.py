"""allauth's forms with FlowChat's words for their fields (settings.ACCOUNT_FORMS).

allauth labels the login field "Login" (in Russian the same word as the button, "Войти")
and its checkbox "Remember Me:"; FlowChat says what to type and writes labels in sentence
case, as everywhere else.
"""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from django.utils.translation import gettext_lazy as _


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or email")
        if "remember" in self.fields:
            self.fields["remember"].label = _("Remember me")
            # A checkbox's label follows it (flowchat.css puts it on the right): no colon.
            self.fields["remember"].label_suffix = ""


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in [
            ("oldpassword", _("Current password")),
            ("password1", _("New password")),
            ("password2", _("New password (again)")),
        ]:
            self.fields[name].label = label
            self.fields[name].widget.attrs["placeholder"] = label
