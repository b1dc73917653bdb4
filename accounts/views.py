"""Profile pages, settings, and the files that stand for a person (avatar, initials)."""

from __future__ import annotations

import hashlib
import json
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flowchat.api import ApiError, authenticate_token

from .context_processors import THEME_COOKIE
from .forms import PreferencesForm, ProfileForm, TimeZoneForm
from .models import PushSubscription, User


@login_required
@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    # Usernames are unique regardless of case, so /people/Alice/ can only mean alice.
    person = get_object_or_404(User, username__iexact=username, is_active=True)
    if person.username != username:
        return redirect(person, permanent=True)
    return render(request, "accounts/profile.html", {"person": person})


@login_required
@require_http_methods(["GET", "POST"])
def edit_profile(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # A form edits its instance while validating; with request.user itself a refused
        # save would show the unsaved name in the page header as if it had been kept.
        form = ProfileForm(request.POST, request.FILES, instance=User.objects.get(pk=request.user.pk))
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:settings")
    else:
        form = ProfileForm(instance=request.user)
    return _settings_page(request, form=form)


def _settings_page(
    request: HttpRequest, *, form: ProfileForm | None = None, zone_form: TimeZoneForm | None = None
) -> HttpResponse:
    form = form or ProfileForm(instance=request.user)
    zone_form = zone_form or TimeZoneForm(initial={"timezone": request.user.timezone})
    context = {
        "form": form,
        "preferences_form": PreferencesForm(initial=_current_preferences(request)),
        "zone_form": zone_form,
        "push_enabled": bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY),
        "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        "devices": [
            {
                "pk": d.pk,
                "label": device_label(d.user_agent),
                "created_at": d.created_at,
                "last_success_at": d.last_success_at,
            }
            for d in request.user.push_subscriptions.all()
        ],
    }
    return render(request, "accounts/settings.html", context, status=400 if form.errors or zone_form.errors else 200)


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    """The settings page's time zone form (it works without JavaScript)."""
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, zone_form=form)
    User.objects.filter(pk=request.user.pk).update(timezone=form.cleaned_data["timezone"])
    messages.success(request, _("Your time zone is saved."))
    return redirect("accounts:settings")


@login_required
@require_POST
def detect_time_zone(request: HttpRequest) -> HttpResponse:
    """The browser's own zone, sent by static/js/local-time.js: kept only while the person has none.

    A zone the person chose is never overwritten by whichever browser they open next.
    """
    form = TimeZoneForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["timezone"]:
        return HttpResponse(_("That is not a time zone."), status=400, content_type="text/plain; charset=utf-8")
    User.objects.filter(pk=request.user.pk, timezone="").update(timezone=form.cleaned_data["timezone"])
    return HttpResponse(status=204)


def device_label(user_agent: str) -> str:
    """ "Firefox on Linux": the browser and system a user agent names, or a plain word when it names neither."""
    browsers = (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    )
    systems = (
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    )
    browser = next((name for mark, name in browsers if mark in user_agent), "")
    system = next((name for mark, name in systems if mark in user_agent), "")
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")


@login_required
@require_POST
def push_previews(request: HttpRequest) -> HttpResponse:
    """The settings page's "Show message text in notifications" (it works without JavaScript)."""
    User.objects.filter(pk=request.user.pk).update(push_previews="push_previews" in request.POST)
    messages.success(request, _("Your notification settings are saved."))
    return redirect(reverse("accounts:settings") + "#notifications")


@login_required
@require_POST
def add_device(request: HttpRequest) -> HttpResponse:
    """The settings page's "Turn on notifications on this device" (static/js/push.js): the browser's
    PushSubscription JSON, kept with this session so that logging out of it removes the device."""
    from .api import register_subscription, subscription_to_dict

    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return ApiError(400, "Send the subscription as JSON.").response()
    session_key = request.session.session_key or ""
    try:
        subscription, created = register_subscription(
            request.user, data, user_agent=request.META.get("HTTP_USER_AGENT", ""), session_key=session_key
        )
    except ApiError as error:
        return error.response()
    if not created and subscription.session_key != session_key:
        # Registered again from this session (after signing in anew): logging out of it removes it.
        subscription.session_key = session_key
        subscription.save(update_fields=["session_key"])
    return HttpResponse(
        json.dumps(subscription_to_dict(subscription), cls=DjangoJSONEncoder),
        status=201 if created else 200,
        content_type="application/json",
    )


@login_required
@require_POST
def remove_device(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop notifying one of the person's devices; someone else's is a 404."""
    deleted, _rows = PushSubscription.objects.filter(pk=pk, user=request.user).delete()
    if not deleted:
        raise Http404("No such device.")
    messages.success(request, _("The device receives no more notifications."))
    return redirect(reverse("accounts:settings") + "#notifications")


def _current_preferences(request: HttpRequest) -> dict[str, str]:
    language = request.user.language if request.user.is_authenticated else ""
    return {"theme": getattr(request.user, "theme", ""), "language": language or request.LANGUAGE_CODE}


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """Save theme and language: on the person when logged in, in cookies for this browser always."""
    form = PreferencesForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or _("That choice is not available."))
        return redirect(next_url)
    theme, language = form.cleaned_data["theme"], form.cleaned_data["language"]
    if request.user.is_authenticated:
        changed = {name: value for name, value in (("theme", theme), ("language", language)) if value}
        User.objects.filter(pk=request.user.pk).update(**changed)
    response = redirect(next_url)
    if request.htmx:
        # htmx swaps nothing here; the page reloads so every string and colour follows.
        response = HttpResponse(status=204, headers={"HX-Refresh": "true"})
    cookie_age = settings.LANGUAGE_COOKIE_AGE
    if theme:
        response.set_cookie(THEME_COOKIE, theme, max_age=cookie_age, samesite="Lax", secure=settings.HTTPS)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=cookie_age, samesite="Lax", secure=settings.HTTPS
        )
    return response


# Colours for generated avatars, readable with white initials in both themes.
INITIALS_COLOURS = ["#3b6fd4", "#2f8f5b", "#b5542b", "#8a46b8", "#b83a6b", "#2b8a94", "#6c6f1f", "#5a5fc8"]


def initials_svg(initials: str, seed: str) -> HttpResponse:
    """The initials on a colour chosen by `seed` (the same seed, the same colour): for people and groups."""
    colour = INITIALS_COLOURS[int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(INITIALS_COLOURS)]
    svg = render_to_string("accounts/initials.svg", {"initials": initials, "colour": colour})
    return HttpResponse(svg, content_type="image/svg+xml")


@require_GET
@cache_control(private=True, max_age=3600)
def initials(request: HttpRequest, pk: int) -> HttpResponse:
    """A person's initials picture, for people signed in (a session, or a script's token).

    Anyone else gets the 404 of a person who does not exist: walking the ids must not tell
    who has an account, nor their initials.
    """
    if not request.user.is_authenticated and authenticate_token(request) is None:
        raise Http404("No such person.")
    # Deactivated people still appear beside their old messages, so they keep a picture.
    person = get_object_or_404(User, pk=pk)
    return initials_svg(person.initials, str(person.pk))


@require_GET
@cache_control(private=True, max_age=31_536_000, immutable=True)
def avatar_file(request: HttpRequest, name: str) -> FileResponse:
    """A stored avatar, for people signed in (as initials are): a link that got out shows nobody's face.

    Names are random and never reused, so the file may be cached for good, privately.
    """
    if not request.user.is_authenticated and authenticate_token(request) is None:
        raise Http404("No such picture.")
    path = f"avatars/{name}"
    if "/" in name or name.startswith(".") or not default_storage.exists(path):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(default_storage.open(path, "rb"), content_type=content_type)
