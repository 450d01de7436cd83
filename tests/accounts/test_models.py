import pytest
from django.db import IntegrityError, transaction

from accounts.models import Profile


@pytest.mark.django_db
def test_new_user_gets_an_empty_profile(alice):
    profile = Profile.objects.get(user=alice)
    assert (profile.about, profile.age, profile.external_id) == ("", None, None)


@pytest.mark.django_db
@pytest.mark.parametrize("field,value", [("age", 0), ("age", 121), ("gender", "X"), ("external_id", "")])
def test_database_refuses_bad_profile_values(alice, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=alice).update(**{field: value})
    assert Profile.objects.filter(user=alice, age=None, gender="", external_id=None).count() == 1
