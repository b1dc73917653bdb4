"""The operator's view of chats: find abuse by person, chat or text, and remove it."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Chat, Membership, Message


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at", "last_read_message_id", "muted"]
    readonly_fields = ["joined_at", "last_read_message_id"]


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_group", "member_count", "created_at", "last_activity_at"]
    list_filter = ["is_group", "created_at"]
    search_fields = ["title", "memberships__user__username"]
    date_hierarchy = "created_at"
    readonly_fields = ["direct_key", "created_at", "last_activity_at", "last_message"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, chat: Chat) -> int:
        return chat.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "chat", "role", "joined_at", "muted"]
    list_filter = ["role", "muted"]
    search_fields = ["user__username", "chat__title"]
    list_select_related = ["user", "chat"]
    autocomplete_fields = ["user", "chat"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "chat",
        "author",
        "kind",
        "short_text",
        "has_picture",
        "created_at",
        "edited_at",
        "deleted_at",
    ]
    list_filter = ["kind", "created_at", "deleted_at"]
    search_fields = ["text", "author__username", "chat__title"]
    list_select_related = ["chat", "author"]
    raw_id_fields = ["chat", "author", "subject"]
    readonly_fields = ["client_id", "created_at", "image_width", "image_height", "thumbnail"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("text"))
    def short_text(self, message: Message) -> str:
        return message.text[:80]

    @admin.display(description=_("picture"), boolean=True)
    def has_picture(self, message: Message) -> bool:
        return bool(message.image)
