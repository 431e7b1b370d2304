from datetime import timedelta

import pytest
from django.utils import timezone

from common.api.idempotency import idempotency_purge
from common.models import IdempotencyRecord
from tests.factories import IdempotencyRecordFactory

pytestmark = pytest.mark.django_db


def test_purge_forgets_keys_older_than_a_day():
    fresh = IdempotencyRecordFactory()
    old = IdempotencyRecordFactory()
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_date=timezone.now() - timedelta(hours=25))

    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
