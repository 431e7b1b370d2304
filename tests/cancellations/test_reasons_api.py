import pytest

from cancellations.models import CancellationReason
from tests.factories import CancellationReasonFactory

pytestmark = pytest.mark.django_db

REASON_FIELDS = {
    "id",
    "pk",
    "cancellation_type",
    "subject",
    "extra_information_needed",
    "order",
    "is_active",
    "send_to_remote",
    "translations",
    "uuid",
    "created_date",
    "modified_date",
}


def test_staff_crud_and_delete_deactivates(staff_client):
    created = staff_client.post(
        "/api/i1/cancellation_reasons/",
        {"cancellation_type": "refund", "subject": "Damaged", "translations": {"tr": {"subject": "Hasarli"}}},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == REASON_FIELDS
    assert body["order"] == 100
    assert body["is_active"] is True

    updated = staff_client.patch(f"/api/i1/cancellation_reasons/{body['id']}/", {"order": 5}, format="json")
    assert updated.json()["order"] == 5

    assert staff_client.delete(f"/api/i1/cancellation_reasons/{body['id']}/").status_code == 204
    reason = CancellationReason.objects.get(pk=body["id"])
    assert reason.is_active is False
    # still listed for the back office, with the filter
    assert staff_client.get("/api/i1/cancellation_reasons/?is_active=false").json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cancellation_type": "return", "subject": "X"}, "cancellation_type"),
        ({"cancellation_type": "cancel", "subject": "X" * 101}, "subject"),
        ({"cancellation_type": "cancel"}, "subject"),
        ({"cancellation_type": "cancel", "subject": "X", "order": -1}, "order"),
        ({"cancellation_type": "cancel", "subject": "X", "translations": ["tr"]}, "translations"),
    ],
)
def test_bad_input_is_400(staff_client, body, field):
    response = staff_client.post("/api/i1/cancellation_reasons/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not CancellationReason.objects.exists()


def test_channel_sees_active_reasons_only_in_display_order(channel_client, channel):
    late = CancellationReasonFactory(subject="Late", order=20)
    early = CancellationReasonFactory(subject="Early", order=10, cancellation_type="refund")
    CancellationReasonFactory(subject="Retired", is_active=False)

    body = channel_client.get(f"/api/channel/{channel.pk}/cancellation_reasons/").json()

    assert [row["id"] for row in body["results"]] == [early.pk, late.pk]
    filtered = channel_client.get(f"/api/channel/{channel.pk}/cancellation_reasons/?cancellation_type=cancel").json()
    assert [row["id"] for row in filtered["results"]] == [late.pk]


def test_channel_cannot_see_an_inactive_reason_or_write(channel_client, channel):
    retired = CancellationReasonFactory(is_active=False)
    active = CancellationReasonFactory()

    assert channel_client.get(f"/api/channel/{channel.pk}/cancellation_reasons/{retired.pk}/").status_code == 404
    response = channel_client.post(
        f"/api/channel/{channel.pk}/cancellation_reasons/",
        {"cancellation_type": "cancel", "subject": "X"},
        format="json",
    )
    assert response.status_code == 405
    assert channel_client.delete(f"/api/channel/{channel.pk}/cancellation_reasons/{active.pk}/").status_code == 405
    assert CancellationReason.objects.get(pk=active.pk).is_active
