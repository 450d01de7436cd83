"""Writes for accounts: users and their profiles."""

from .models import Profile, User


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
    raise NotImplementedError


def profile_update(*, user: User, **fields) -> Profile:
    """Update profile fields (about, interests as Category ids/objects, age, gender, occupation,
    location, onboarded) and queue re-embedding of the profile text."""
    raise NotImplementedError
