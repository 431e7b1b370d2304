from decimal import Decimal

import pytest

from cancellations.models import CancellationPlan, CancellationRequest
from refunds.models import Refund
from tests.factories import CancellationRequestFactory, EasyReturnFactory, order_with_items

pytestmark = pytest.mark.django_db

IBAN = "TR330006100519786457841326"


def run_action(admin_client, url, action, ids):
    return admin_client.post(url, {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True)


def waiting_request(channel, reason):
    item = order_with_items(channel=channel, lines=[(Decimal("15.00"), 2)]).items.get()
    item.cancel_status = "waiting"
    item.save()
    return CancellationRequestFactory(order_item=item, reason=reason, quantity=2, iban=IBAN, holder_name="Ayse")


def test_approve_action_runs_the_cancellation(admin_client, channel, cancel_reason, django_capture_on_commit_callbacks):
    request = waiting_request(channel, cancel_reason)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            admin_client, "/admin/cancellations/cancellationrequest/", "approve_selected", [request.pk]
        )

    assert response.status_code == 200
    assert "1 request(s) approved." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "completed"
    assert Refund.objects.get().amount == Decimal("30.00")


def test_reject_action_and_its_refusals(admin_client, channel, cancel_reason):
    waiting = waiting_request(channel, cancel_reason)
    done = CancellationRequestFactory(reason=cancel_reason, status="rejected")

    response = run_action(
        admin_client, "/admin/cancellations/cancellationrequest/", "reject_selected", [waiting.pk, done.pk]
    )

    page = response.content.decode()
    assert "1 request(s) rejected." in page
    assert f"Not rejected: #{done.pk}" in page
    waiting.refresh_from_db()
    assert waiting.status == "rejected"
    assert waiting.order_item.cancel_status == "rejected"


def test_the_request_page_masks_the_iban_and_filters_by_channel(admin_client, channel, cancel_reason):
    request = waiting_request(channel, cancel_reason)

    page = admin_client.get(f"/admin/cancellations/cancellationrequest/{request.pk}/change/").content.decode()
    listing = admin_client.get(f"/admin/cancellations/cancellationrequest/?channel__id__exact={channel.pk}")

    assert IBAN not in page
    assert "TR33******************1326" in page
    assert listing.status_code == 200
    assert f">{request.pk}<" in listing.content.decode()


def test_retry_action_queues_failed_refunds_again(admin_client, channel, django_capture_on_commit_callbacks):
    order = order_with_items(channel=channel)
    plan = CancellationPlan.objects.create(order=order, channel=channel, plan_type="cancel", status="failed")
    refund = Refund.objects.create(
        order=order,
        channel=channel,
        plan=plan,
        kind="items",
        method="original_payment",
        amount=Decimal("100.00"),
        currency="try",
        status="failed",
        attempts=3,
        last_error="declined",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(admin_client, "/admin/cancellations/cancellationplan/", "retry_selected", [plan.pk])

    assert "1 plan(s) queued again." in response.content.decode()
    plan.refresh_from_db()
    refund.refresh_from_db()
    assert (plan.status, refund.status, refund.attempts) == ("waiting", "pending", 3)
    assert len(callbacks) == 1


def test_staff_set_the_tracking_number_of_an_easy_return(admin_client):
    easy_return = EasyReturnFactory(code="ERABC")
    url = f"/admin/cancellations/easyreturn/{easy_return.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"tracking_number": "TRK-777", "tracking_url": "https://track.example/TRK-777"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    easy_return.refresh_from_db()
    assert easy_return.tracking_number == "TRK-777"
    assert CancellationRequest.objects.count() == 0
