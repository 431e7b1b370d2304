from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cancellations.models import CancellationPlan, CancellationRequest
from common import console
from orders.models import OrderEvent
from refunds.models import Refund
from tests.factories import (
    CancellationPlanFactory,
    CancellationRequestFactory,
    EasyReturnFactory,
    RefundFactory,
    StaffUserFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

IBAN = "TR330006100519786457841326"


def run_action(admin_client, url, action, ids):
    return admin_client.post(url, {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True)


def waiting_request(channel, reason, **order_kwargs):
    item = order_with_items(channel=channel, lines=[(Decimal("15.00"), 2)], **order_kwargs).items.get()
    item.cancel_status = "waiting"
    item.save()
    return CancellationRequestFactory(order_item=item, reason=reason, quantity=2, iban=IBAN, holder_name="Ayse")


def confirmed_action(admin_client, url, action, ids):
    """The action's confirmation page, then its "Yes": what a person clicking through does."""
    first = run_action(admin_client, url, action, ids)
    assert first.status_code == 200
    assert first.templates[0].name == "admin/ops/confirm.html"
    data = {"action": action, "_selected_action": [str(i) for i in ids], "post": "yes"}
    return first, admin_client.post(url, data, follow=True)


REQUESTS_URL = "/admin/cancellations/cancellationrequest/"
PLANS_URL = "/admin/cancellations/cancellationplan/"


def history(obj) -> list[str]:
    return [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=str(obj.pk)).order_by("id")]


def test_approve_action_confirms_then_runs_the_cancellation(
    admin_client, channel, cancel_reason, django_capture_on_commit_callbacks
):
    request = waiting_request(channel, cancel_reason)

    with django_capture_on_commit_callbacks(execute=True):
        confirmation, response = confirmed_action(admin_client, REQUESTS_URL, "console_approve", [request.pk])

    # the confirmation page said what would be refunded, by which rail, to whom (IBAN masked) and changed nothing
    page = confirmation.content.decode()
    assert "30.00 TRY" in page
    assert "Funds transfer" in page or "Original payment" in page
    assert IBAN not in page
    assert "Yes, approve 1" in page
    assert response.status_code == 200
    assert f"Request #{request.pk} approved (plan #" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "completed"
    assert Refund.objects.get().amount == Decimal("30.00")
    assert history(request)[0].startswith("Approved: plan #")
    assert OrderEvent.objects.filter(
        order=request.order_item.order, type="request_approved", actor__isnull=False
    ).exists()


def test_a_select_all_approval_stops_at_the_confirmation(admin_client, channel, cancel_reason):
    requests = [waiting_request(channel, cancel_reason) for _ in range(3)]

    response = admin_client.post(
        REQUESTS_URL,
        {"action": "console_approve", "select_across": "1", "_selected_action": [str(requests[0].pk)]},
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/ops/confirm.html"
    assert "Yes, approve 3" in response.content.decode()
    assert "In all: 90.00 TRY" in response.content.decode()
    assert set(CancellationRequest.objects.values_list("status", flat=True)) == {"waiting"}
    assert not CancellationPlan.objects.exists()
    assert not LogEntry.objects.exists()


def test_reject_action_and_its_refusals(admin_client, channel, cancel_reason):
    waiting = waiting_request(channel, cancel_reason)
    done = CancellationRequestFactory(reason=cancel_reason, status="rejected")

    confirmation, response = confirmed_action(admin_client, REQUESTS_URL, "console_reject", [waiting.pk, done.pk])

    assert "Will not be rejected" in confirmation.content.decode()
    page = response.content.decode()
    assert f"Request #{waiting.pk} rejected" in page
    assert f"{done}: not rejected" in page
    waiting.refresh_from_db()
    assert waiting.status == "rejected"
    assert waiting.order_item.cancel_status == "rejected"
    assert history(waiting) == ["Rejected."]
    assert history(done) == []


def test_approve_from_the_request_page(admin_client, channel, cancel_reason, django_capture_on_commit_callbacks):
    request = waiting_request(channel, cancel_reason, payment_option="funds_transfer")
    change_url = f"{REQUESTS_URL}{request.pk}/change/"
    decide_url = f"{REQUESTS_URL}{request.pk}/decide/approve/"

    page = admin_client.get(change_url).content.decode()
    confirmation = admin_client.get(decide_url).content.decode()
    assert not CancellationPlan.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(decide_url, {"confirm": "Yes"})

    assert decide_url in page
    assert f"{REQUESTS_URL}{request.pk}/decide/reject/" in page
    assert 'name="_save"' not in page  # every field is the services': no Save that saves nothing
    assert "30.00 TRY" in confirmation
    assert "TR33******************1326" in confirmation
    assert response.status_code == 302
    assert response.url == change_url
    request.refresh_from_db()
    assert request.status == "approved"  # the bank transfer waits for its export
    decided = admin_client.get(change_url).content.decode()
    assert decide_url not in decided


def test_a_decided_request_is_not_approved_again(admin_client, channel, cancel_reason):
    request = CancellationRequestFactory(reason=cancel_reason, status="rejected")

    confirmation = admin_client.get(f"{REQUESTS_URL}{request.pk}/decide/approve/").content.decode()
    response = admin_client.post(f"{REQUESTS_URL}{request.pk}/decide/approve/", {"confirm": "Yes"}, follow=True)

    assert "Nothing here can be decided now" in confirmation
    assert "not approved" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "rejected"
    assert not CancellationPlan.objects.exists()
    assert history(request) == []


def test_an_approval_a_rule_refuses_shows_the_refusal_first(admin_client, channel, cancel_reason):
    request = waiting_request(channel, cancel_reason)
    request.order_item.status = "500"  # shipped meanwhile: a cancel no longer applies
    request.order_item.save()

    confirmation = admin_client.get(f"{REQUESTS_URL}{request.pk}/decide/approve/").content.decode()

    assert "Will not be approved" in confirmation
    assert "Yes, approve" not in confirmation
    request.refresh_from_db()
    assert request.status == "waiting"


def test_the_request_page_masks_the_iban_and_filters_by_channel(admin_client, channel, cancel_reason):
    request = waiting_request(channel, cancel_reason)

    page = admin_client.get(f"/admin/cancellations/cancellationrequest/{request.pk}/change/").content.decode()
    listing = admin_client.get(f"/admin/cancellations/cancellationrequest/?channel__id__exact={channel.pk}")

    assert IBAN not in page
    assert "TR33******************1326" in page
    assert listing.status_code == 200
    assert f">{request.pk}<" in listing.content.decode()


def test_the_request_page_reads_its_row_once(admin_client, channel, cancel_reason):
    # Its decisions' buttons are worked out from the row the page loaded, not from a second read of it.
    request = waiting_request(channel, cancel_reason)

    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(f"{REQUESTS_URL}{request.pk}/change/").content.decode()

    assert f"{REQUESTS_URL}{request.pk}/decide/approve/" in page
    table = CancellationRequest._meta.db_table
    row_reads = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]
    assert len(row_reads) == 1, row_reads


def test_a_bulk_confirmation_reads_each_rows_relations_with_the_rows(admin_client, channel, cancel_reason):
    # The reject confirmation names each request's item, order and reason: joined to the rows, not read per row.
    def confirmation_queries(requests) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = run_action(admin_client, REQUESTS_URL, "console_reject", [r.pk for r in requests])
        assert response.templates[0].name == "admin/ops/confirm.html"
        return len(queries)

    one = [waiting_request(channel, cancel_reason)]
    confirmation_queries(one)  # the session and the user's permissions, cached from here on
    many = one + [waiting_request(channel, cancel_reason) for _ in range(4)]

    assert confirmation_queries(many) == confirmation_queries(one)


def failed_plan(channel, *, payment_reference="sandbox-fail-1"):
    order = order_with_items(channel=channel, payment_reference=payment_reference)
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
        last_error="sandbox_declined: the sandbox was told to refuse",
    )
    return plan, refund


def test_retry_says_queued_when_the_refunds_wait_for_a_worker(
    admin_client, channel, django_capture_on_commit_callbacks
):
    plan, refund = failed_plan(channel)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        confirmation, response = confirmed_action(admin_client, PLANS_URL, "console_retry", [plan.pk])

    assert "sandbox_declined" in confirmation.content.decode()
    assert f"Plan #{plan.pk} retried: queued: 1 refund(s) of 100.00 TRY wait for a worker." in response.content.decode()
    plan.refresh_from_db()
    refund.refresh_from_db()
    assert (plan.status, refund.status, refund.attempts) == ("waiting", "pending", 3)
    assert len(callbacks) == 1
    assert history(plan) == ["Retried: queued: 1 refund(s) of 100.00 TRY wait for a worker."]
    assert OrderEvent.objects.filter(order=plan.order, type="cancellation_retried").count() == 1


@pytest.mark.django_db(transaction=True)
def test_retry_says_failed_again_with_the_error(channel):
    # given: real commits, so the retried refund runs in-process before the page answers
    plan, refund = failed_plan(channel)
    client = Client()
    client.force_login(StaffUserFactory(is_superuser=True))

    # when
    response = client.post(f"/admin/refunds/refund/{refund.pk}/decide/retry/", {"confirm": "Yes"}, follow=True)

    # then
    page = response.content.decode()
    assert f"Plan #{plan.pk} retried: failed again: refund #{refund.pk}: sandbox_declined" in page
    assert "queued" not in page
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("failed", 4)
    assert history(refund)[0].startswith("Retried: failed again")


@pytest.mark.django_db(transaction=True)
def test_retry_says_succeeded_when_the_refund_went_through(channel):
    plan, _ = failed_plan(channel, payment_reference="PAY-1")
    client = Client()
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.post(f"{PLANS_URL}{plan.pk}/decide/retry/", {"confirm": "Yes"}, follow=True)

    assert f"Plan #{plan.pk} retried: refunded 100.00 TRY (succeeded)." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "completed"


def test_the_retry_button_shows_on_failed_refunds_only(admin_client, channel):
    plan, failed = failed_plan(channel)
    succeeded = RefundFactory(status="succeeded")

    failed_page = admin_client.get(f"/admin/refunds/refund/{failed.pk}/change/").content.decode()
    succeeded_page = admin_client.get(f"/admin/refunds/refund/{succeeded.pk}/change/").content.decode()
    plan_page = admin_client.get(f"{PLANS_URL}{plan.pk}/change/").content.decode()

    assert f"/admin/refunds/refund/{failed.pk}/decide/retry/" in failed_page
    assert "sandbox_declined" in failed_page
    assert "/decide/retry/" not in succeeded_page
    assert f"{PLANS_URL}{plan.pk}/decide/retry/" in plan_page


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


def test_attribute_json_is_read_only_and_folded_away(admin_client, channel):
    plan = CancellationPlanFactory(order=order_with_items(channel=channel), attributes={"source": "web"})

    response = admin_client.get(f"{PLANS_URL}{plan.pk}/change/")

    page = response.content.decode()
    assert 'name="attributes"' not in page
    assert 'name="refund_invoice_number"' in page  # what accounting fills in stays editable
    fieldsets = dict(response.context["adminform"].fieldsets)
    assert fieldsets["Attributes"]["classes"] == ("collapse",)
    assert "attributes" in fieldsets["Attributes"]["fields"]
    assert "source" in page


@pytest.mark.parametrize(
    "path",
    [
        "{pk}/decide/no-such-decision/",
        "not-an-id/decide/approve/",
        "99999999999999999999999/decide/approve/",
        "0/decide/reject/",
    ],
)
def test_a_decision_url_that_names_nothing_is_404(admin_client, cancel_reason, path):
    request = CancellationRequestFactory(reason=cancel_reason)

    got = admin_client.get(REQUESTS_URL + path.format(pk=request.pk))
    posted = admin_client.post(REQUESTS_URL + path.format(pk=request.pk), {"confirm": "Yes"})

    assert (got.status_code, posted.status_code) == (404, 404)
    request.refresh_from_db()
    assert request.status == "waiting"


def test_staff_without_the_change_permission_may_not_decide(client, cancel_reason):
    request = CancellationRequestFactory(reason=cancel_reason)
    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_cancellationrequest"))
    client.force_login(viewer)

    page = client.get(f"{REQUESTS_URL}{request.pk}/change/").content.decode()
    response = client.post(f"{REQUESTS_URL}{request.pk}/decide/reject/", {"confirm": "Yes"})

    assert "/decide/" not in page
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "waiting"


@pytest.mark.parametrize("url", [REQUESTS_URL, PLANS_URL])
def test_the_last_error_column_is_read_by_the_page_query_alone(admin_client, channel, cancel_reason, url):
    # given: a request whose plan's refund failed
    plan, _ = failed_plan(channel)
    CancellationRequestFactory(reason=cancel_reason, cancellation_plan=plan, status="approved")

    # when
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(url).content.decode()

    # then: not in the count nor in the query of the page's ids, which may read thousands of rows
    assert "sandbox_declined: the sandbox was told to refuse" in page
    reading_refunds = [query["sql"] for query in queries.captured_queries if "refunds_refund" in query["sql"]]
    assert len(reading_refunds) == 1
    assert "COUNT(" not in reading_refunds[0]


def test_a_decision_over_too_many_rows_is_refused_before_any_confirmation(
    admin_client, channel, cancel_reason, monkeypatch
):
    monkeypatch.setattr(console, "MAX_ROWS_PER_DECISION", 2)
    requests = [waiting_request(channel, cancel_reason) for _ in range(3)]
    ids = [str(request.pk) for request in requests]

    shown = admin_client.post(REQUESTS_URL, {"action": "console_approve", "_selected_action": ids}, follow=True)
    posted = admin_client.post(
        REQUESTS_URL, {"action": "console_approve", "_selected_action": ids, "post": "yes"}, follow=True
    )

    for response in (shown, posted):
        assert "Select at most 2 rows for one decision" in response.content.decode()
        assert response.templates[0].name != "admin/ops/confirm.html"
    assert set(CancellationRequest.objects.values_list("status", flat=True)) == {"waiting"}
    assert not CancellationPlan.objects.exists()
