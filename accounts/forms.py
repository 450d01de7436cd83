"""Forms for signing up and onboarding. They validate; the views hand the data to services."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from catalog.models import Category

from .models import Profile, User


class SignupForm(UserCreationForm):
    """Username, email and the password twice, checked by AUTH_PASSWORD_VALIDATORS."""

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.", code="duplicate_email")
        return email


class OnboardingForm(forms.Form):
    """Interests (at least one), an optional sentence and optional demographics."""

    interests = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
        error_messages={"required": "Pick at least one thing you are interested in."},
    )
    about = forms.CharField(
        label="What do you like?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. slow-burn sci-fi, witty romantic comedies"}),
        help_text="One sentence is enough. We use it to find things that match.",
    )
    age = forms.IntegerField(required=False, min_value=1, max_value=120)
    gender = forms.ChoiceField(required=False, choices=[("", "Prefer not to say"), *Profile.Gender.choices])
    occupation = forms.CharField(required=False, max_length=64)
    location = forms.CharField(
        required=False, max_length=64, help_text="Postcode, city or region.", widget=forms.TextInput()
    )

    @classmethod
    def initial_for(cls, profile: Profile) -> dict:
        """The form's initial values from an existing profile."""
        return {
            "interests": list(profile.interests.values_list("slug", flat=True)),
            "about": profile.about,
            "age": profile.age,
            "gender": profile.gender,
            "occupation": profile.occupation,
            "location": profile.location,
        }
