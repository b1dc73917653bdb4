from django.urls import path

from . import group_views, search_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("chats/", views.chat_list, name="chat_list"),
    path("chats/<int:pk>/", views.chat, name="chat"),
    path("chats/<int:pk>/updates/", views.updates, name="chat_updates"),
    path("chats/<int:pk>/messages/", views.send, name="send_message"),
    path("chats/<int:pk>/messages/<int:message_pk>/", views.permalink, name="message_permalink"),
    path("chats/<int:pk>/messages/<int:message_pk>/edit/", views.edit, name="edit_message"),
    path("chats/<int:pk>/messages/<int:message_pk>/delete/", views.delete, name="delete_message"),
    path("chats/<int:pk>/messages/<int:message_pk>/reactions/", views.reactions, name="message_reactions"),
    path(
        "chats/<int:pk>/messages/<int:message_pk>/link-preview/remove/",
        views.remove_link_preview,
        name="remove_link_preview",
    ),
    path("chats/<int:pk>/read/", views.read, name="mark_read"),
    path("chats/<int:pk>/initials.svg", views.chat_initials, name="chat_initials"),
    path("chats/viewer-<int:pk>.css", views.viewer_css, name="viewer_css"),
    path("media/pictures/<str:name>", views.picture_file, name="picture_file"),
    path("media/chat-photos/<str:name>", views.chat_photo_file, name="chat_photo_file"),
    path("people/", group_views.people, name="people"),
    path("chats/direct/", group_views.start_direct_chat, name="start_direct_chat"),
    path("chats/new-group/", group_views.create_group, name="create_group"),
    path("chats/<int:pk>/settings/", group_views.group_settings, name="group_settings"),
    path("chats/<int:pk>/rename/", group_views.rename, name="rename_group"),
    path("chats/<int:pk>/photo/", group_views.photo, name="group_photo"),
    path("chats/<int:pk>/members/", group_views.add_member, name="add_member"),
    path("chats/<int:pk>/members/<int:user_pk>/remove/", group_views.remove_member, name="remove_member"),
    path("chats/<int:pk>/leave/", group_views.leave, name="leave_chat"),
    path("chats/<int:pk>/open/", group_views.set_open, name="set_group_open"),
    path("chats/<int:pk>/join/", group_views.join, name="join_group"),
    path("groups/", group_views.group_directory, name="group_directory"),
    path("search/", search_views.search, name="search"),
]
