"""Profile serializers for the API: validation only; the write is accounts.services.profile_update."""

from rest_framework import serializers

from catalog.models import Category

from .forms import SignupForm
from .models import Profile


class ProfileSerializer(serializers.ModelSerializer):
    """The signed-in user's profile. Username and email are read-only; other client fields are ignored."""

    username = serializers.CharField(source="user.username", read_only=True)
    # A CharField, not an EmailField: accounts may have no email, and "" is not a valid `format: email`.
    email = serializers.CharField(
        source="user.email", read_only=True, help_text="The account's email address; empty when it has none."
    )
    interests = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), many=True, required=False, help_text="Category slugs."
    )
    about = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    age = serializers.IntegerField(min_value=1, max_value=120, allow_null=True, required=False)

    class Meta:
        model = Profile
        fields = [
            "username",
            "email",
            "about",
            "interests",
            "age",
            "gender",
            "occupation",
            "location",
            "onboarded",
            "updated_at",
        ]
        read_only_fields = ["username", "email", "updated_at"]


class SignupSerializer(serializers.Serializer):
    """A new account: the site's sign-up rules (accounts.forms.SignupForm), the password once."""

    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        form = SignupForm(
            data={
                "username": attrs["username"],
                "email": attrs["email"],
                "password1": attrs["password"],
                "password2": attrs["password"],
            }
        )
        if not form.is_valid():
            # The form's two password fields are one field here.
            errors = {"password" if name.startswith("password") else name: msgs for name, msgs in form.errors.items()}
            raise serializers.ValidationError(errors)
        return {"username": form.cleaned_data["username"], "email": form.cleaned_data["email"], **attrs}
