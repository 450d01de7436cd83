"""Signal handlers only hand off to services and task helpers."""

from django.db.models.signals import m2m_changed, post_save

from tasks import enqueue

M2M_DONE = frozenset({"post_add", "post_remove", "post_clear"})


def _ensure_profile(sender, instance, created, **kwargs):
    if created:
        from .services import profile_ensure

        profile_ensure(user=instance)


def _profile_saved(sender, instance, **kwargs):
    enqueue.users_changed([instance.user_id])


def _profile_interests_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in M2M_DONE:  # reverse: pk_set holds Profile ids (a reverse clear is left to the sweep)
        enqueue.users_changed(_profile_user_ids(pk_set) if reverse else [instance.user_id])


def _profile_user_ids(profile_ids):
    from .models import Profile

    return list(Profile.objects.filter(pk__in=profile_ids or ()).values_list("user_id", flat=True))


def connect():
    from .models import Profile, User

    post_save.connect(_ensure_profile, sender=User, dispatch_uid="accounts_ensure_profile")
    post_save.connect(_profile_saved, sender=Profile, dispatch_uid="accounts_profile_saved")
    m2m_changed.connect(
        _profile_interests_changed, sender=Profile.interests.through, dispatch_uid="accounts_profile_interests"
    )
