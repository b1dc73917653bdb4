from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_active", "date_joined"]
    list_filter = [*BaseUserAdmin.list_filter, "theme", "language"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Profile"), {"fields": ["avatar", "bio", "last_active", "theme", "language", "timezone"]}),
    ]
    readonly_fields = ["last_active"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "created_at", "last_used_at"]
    search_fields = ["user__username", "name"]
    readonly_fields = ["user", "key_hash", "created_at", "last_used_at"]
    list_select_related = ["user"]
