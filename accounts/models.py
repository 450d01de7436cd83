from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class User(AbstractUser):
    """The site's user; a custom model from the first migration so it can grow later."""


class Profile(models.Model):
    """What cold start needs to know about a person before (and beside) their interactions."""

    class Gender(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "O", "Other"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    external_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    about = models.TextField("about / what I like", max_length=2000, blank=True)
    interests = models.ManyToManyField("catalog.Category", blank=True, related_name="interested_profiles")
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    occupation = models.CharField(max_length=64, blank=True)
    location = models.CharField(max_length=64, blank=True, help_text="Postcode, city or region")
    onboarded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=1, age__lte=120), name="profile_age_range"
            ),
            models.CheckConstraint(condition=Q(gender__in=["", "F", "M", "O"]), name="profile_gender_valid"),
            models.CheckConstraint(condition=~Q(external_id=""), name="profile_external_id_not_blank"),
        ]

    def __str__(self):
        return f"Profile of {self.user}"
