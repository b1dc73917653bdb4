from django.contrib import admin
from django.urls import include, path, re_path

from accounts.signup import signup
from flowchat import api, openapi, webapp

urlpatterns = [
    # Before allauth's own: the sign-up page that knows invites (accounts.signup).
    path("accounts/signup/", signup, name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # The installable app (flowchat.webapp): at the root, the service worker's scope is the site.
    path("sw.js", webapp.service_worker, name="service_worker"),
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("", include("accounts.urls")),
    path("", include("conversations.urls")),
    path("api/schema/", openapi.schema, name="api-schema"),
    path("api/", include("accounts.api")),
    path("api/", include("conversations.api")),
    # Last: anything else under /api/ is a JSON 404, even with DEBUG on. [\s\S], not `.`,
    # or a path with a newline (%0A) falls through to Django's HTML 404 page.
    re_path(r"^api(?:/[\s\S]*)?$", api.not_found),
]

handler400 = api.bad_request
handler404 = api.page_not_found
handler500 = api.server_error
