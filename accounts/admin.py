from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from conversations import actions

from .folding import fold
from .models import ApiToken, Invite, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_active", "date_joined"]
    list_filter = [*BaseUserAdmin.list_filter, "theme", "language"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Profile"), {"fields": ["avatar", "bio", "last_active", "theme", "language", "timezone"]}),
    ]
    readonly_fields = ["last_active"]
    actions = ["deactivate"]

    def get_search_results(self, request, queryset, search_term):
        # The admin's own icontains misses "Иванов" for "иванов" on SQLite: add the folded names.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        words = search_term.split()
        if words:
            folded = queryset
            for word in words:
                folded = folded.filter(search_name__contains=fold(word))
            found = found | folded
        return found, may_have_duplicates

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # Unticking "Active" is closing the account: everything signed in as them ends now.
        if change and "is_active" in form.changed_data and not obj.is_active:
            actions.deactivate_person(obj)

    @admin.action(description=_("Deactivate selected people (signs them out everywhere)"))
    def deactivate(self, request, queryset) -> None:
        people = list(queryset.filter(is_active=True).exclude(pk=request.user.pk))
        for person in people:
            actions.deactivate_person(person)
        count = len(people)
        self.message_user(
            request,
            ngettext("%(count)d person deactivated.", "%(count)d people deactivated.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created_at", "last_used_at"]
    search_fields = ["user__username", "name"]
    readonly_fields = ["user", "key_hash", "created_at", "last_used_at"]
    list_select_related = ["user"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["created_by", "created_at", "expires_at", "uses", "max_uses", "revoked_at"]
    list_select_related = ["created_by"]
    # The token is not shown here: the person who made the link copies it from their invites page.
    fields = ["created_by", "expires_at", "max_uses", "uses", "revoked_at"]
    readonly_fields = ["uses"]
    raw_id_fields = ["created_by"]
