"""Signal handlers only hand off to services and task helpers."""

from django.db.models.signals import post_save


def _ensure_profile(sender, instance, created, **kwargs):
    if created:
        from .services import profile_ensure

        profile_ensure(user=instance)


def connect():
    from .models import User

    post_save.connect(_ensure_profile, sender=User, dispatch_uid="accounts_ensure_profile")
