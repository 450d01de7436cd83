"""Admin for people: the user admin with the profile inline, and profiles on their own."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from catalog.admin import EstimatedCountPaginator

from .models import Profile, User

PROFILE_FIELDS = ["external_id", "about", "interests", "age", "gender", "occupation", "location", "onboarded"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = PROFILE_FIELDS
    filter_horizontal = ["interests"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "email", "external_id", "is_staff", "date_joined"]
    list_select_related = ["profile"]
    search_fields = ["username", "email", "=profile__external_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_inline_instances(self, request, obj=None):
        # A new user gets its profile from the post_save signal; an inline would try to add a second.
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="external id", ordering="profile__external_id")
    def external_id(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.external_id if profile else None


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "external_id", "age", "gender", "occupation", "location", "onboarded"]
    list_filter = ["gender", "occupation", "onboarded"]
    list_select_related = ["user"]
    search_fields = ["=external_id", "user__username"]
    raw_id_fields = ["user"]
    filter_horizontal = ["interests"]
    fields = ["user", *PROFILE_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
