from django.urls import path

from . import invite_views, views

app_name = "accounts"

urlpatterns = [
    path("people/<str:username>/", views.profile, name="profile"),
    path("people/<int:pk>/initials.svg", views.initials, name="initials"),
    path("settings/", views.edit_profile, name="settings"),
    path("settings/preferences/", views.preferences, name="preferences"),
    path("settings/time-zone/", views.time_zone, name="time_zone"),
    path("settings/notifications/", views.push_previews, name="push_previews"),
    path("settings/devices/", views.add_device, name="add_device"),
    path("settings/devices/<int:pk>/remove/", views.remove_device, name="remove_device"),
    path("settings/time-zone/detected/", views.detect_time_zone, name="detect_time_zone"),
    path("media/avatars/<str:name>", views.avatar_file, name="avatar_file"),
    path("invites/", invite_views.invites, name="invites"),
    path("invites/<int:pk>/revoke/", invite_views.revoke, name="revoke_invite"),
    path("join/<str:token>/", invite_views.join, name="join"),
]
