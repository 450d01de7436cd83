"""Writes for accounts: users and their profiles.

Refused input raises `django.core.exceptions.ValidationError` keyed by field name and writes nothing.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.services import categories_resolve
from tasks import enqueue

from .models import Profile, User

PROFILE_FIELDS = frozenset({"about", "interests", "age", "gender", "occupation", "location", "onboarded"})
AGE_MIN, AGE_MAX = 1, 120


def profile_ensure(*, user: User) -> Profile:
    """Return the user's profile, creating an empty one if it does not exist yet."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def demo_staff_ensure(*, username: str, password: str) -> User:
    """Create or reset a staff superuser with the given credentials (for the demo)."""
    user, _ = User.objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    profile_ensure(user=user)
    return user


def user_signup(*, username: str, email: str, password: str) -> User:
    """Create an ordinary user (password validated by the caller's form) with an empty profile."""
    username = User.normalize_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["A user with that username already exists."]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            profile_ensure(user=user)
            enqueue.users_changed([user.id])
    except IntegrityError as exc:  # lost a race with a concurrent sign-up of the same name
        raise ValidationError({"username": ["A user with that username already exists."]}) from exc
    return user


def _check_profile(profile: Profile) -> None:
    # TextField max_length is not enforced by Django itself, and the age range is a table constraint.
    limit = Profile._meta.get_field("about").max_length
    if len(profile.about) > limit:
        raise ValidationError({"about": [f"Ensure this field has no more than {limit} characters."]})
    if profile.age is not None and not (AGE_MIN <= profile.age <= AGE_MAX):
        raise ValidationError({"age": [f"Ensure this value is between {AGE_MIN} and {AGE_MAX}."]})
    profile.full_clean(exclude=["user", "interests", "external_id"], validate_constraints=False)


@transaction.atomic
def profile_update(*, user: User, **fields) -> Profile:
    """Update profile fields (about, interests as Category objects/slugs/ids, age, gender, occupation,
    location, onboarded) and queue re-embedding of the profile text."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"profile_update() got unexpected fields: {', '.join(sorted(unknown))}")
    profile = Profile.objects.select_for_update().filter(user=user).first() or profile_ensure(user=user)
    changed = set()
    if "interests" in fields:
        interests = categories_resolve(categories=fields.pop("interests"), field="interests")
        if {c.pk for c in interests} != set(profile.interests.values_list("pk", flat=True)):
            changed.add("interests")
    for name, value in fields.items():
        if name in {"about", "occupation", "location", "gender"} and value is None:
            value = ""
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.add(name)
    if changed - {"interests"}:
        _check_profile(profile)
        profile.save(update_fields=sorted(changed - {"interests"}) + ["updated_at"])
    if "interests" in changed:
        profile.interests.set(interests)
    if changed - {"onboarded"}:  # the onboarded flag is not part of the profile text
        enqueue.users_changed([user.id])
    return profile
