import csv
import io
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry

from cancellations.services import order_cancel
from common.errors import ApplicationError
from orders.models import OrderEvent
from refunds.models import BankTransfer, Refund
from refunds.services import bank_transfers_export, bank_transfers_mark_paid, csv_cell, refund_execute, refunds_due
from tests.factories import (
    BankTransferFactory,
    CancellationReasonFactory,
    CancellationRequestFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


@pytest.fixture
def transfer_plan(channel):
    order = order_with_items(
        channel=channel, payment_option="funds_transfer", lines=[(Decimal("40.00"), 1)], shipping=Decimal("6.00")
    )
    item = order.items.get()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    return order_cancel(
        order_id=order.pk,
        item_ids=[item.pk],
        reasons={item.pk: reason.pk},
        ibans={item.pk: IBAN},
        holder_names={item.pk: "Ayse Yilmaz"},
    )


def test_a_transfer_refund_waits_for_the_payout(transfer_plan):
    for refund in transfer_plan.refunds.all():
        refund_execute(refund_id=refund.pk)
        refund_execute(refund_id=refund.pk)  # a second delivery changes nothing

    transfers = list(BankTransfer.objects.order_by("id"))
    assert [(t.amount, t.iban, t.holder_name, t.status) for t in transfers] == [
        (Decimal("40.00"), IBAN, "Ayse Yilmaz", "pending"),
        (Decimal("6.00"), IBAN, "Ayse Yilmaz", "pending"),
    ]
    assert set(Refund.objects.values_list("status", "attempts")) == {("processing", 1)}
    assert refunds_due() == []  # the sweeper leaves payouts alone
    transfer_plan.refresh_from_db()
    assert transfer_plan.status == "waiting"


def test_export_then_paid_settles_the_refunds_and_completes_the_plan(transfer_plan):
    for refund in transfer_plan.refunds.all():
        refund_execute(refund_id=refund.pk)
    ids = list(BankTransfer.objects.values_list("pk", flat=True))

    with pytest.raises(ApplicationError) as refused:
        bank_transfers_mark_paid(transfer_ids=ids)
    assert refused.value.code == "transfer_not_exported"

    rows = list(csv.DictReader(io.StringIO(bank_transfers_export(transfer_ids=ids))))
    assert [(r["iban"], r["amount"], r["holder_name"]) for r in rows] == [
        (IBAN, "40.00", "Ayse Yilmaz"),
        (IBAN, "6.00", "Ayse Yilmaz"),
    ]
    assert set(BankTransfer.objects.values_list("status", flat=True)) == {"exported"}

    assert bank_transfers_mark_paid(transfer_ids=ids) == 2

    transfer_plan.refresh_from_db()
    order = transfer_plan.order
    order.refresh_from_db()
    assert transfer_plan.status == "completed"
    assert order.refund_amount == order.amount == Decimal("46.00")
    assert set(Refund.objects.values_list("status", flat=True)) == {"succeeded"}


def test_admin_exports_a_csv_and_marks_paid(admin_client, transfer_plan):
    for refund in transfer_plan.refunds.all():
        refund_execute(refund_id=refund.pk)
    ids = [str(pk) for pk in BankTransfer.objects.values_list("pk", flat=True)]
    url = "/admin/refunds/banktransfer/"

    confirmation = admin_client.post(url, {"action": "console_export", "_selected_action": ids})
    after_confirmation = set(BankTransfer.objects.values_list("status", flat=True))
    exported = admin_client.post(url, {"action": "console_export", "_selected_action": ids, "post": "yes"})
    paid = admin_client.post(url, {"action": "console_mark-paid", "_selected_action": ids, "post": "yes"}, follow=True)

    # the confirmation shows the payouts, the IBAN masked; only the file carries it whole
    assert "DE89**************3000" in confirmation.content.decode()
    assert IBAN not in confirmation.content.decode()
    assert after_confirmation == {"pending"}
    assert exported["Content-Type"] == "text/csv"
    assert IBAN in exported.content.decode()
    assert "2 transfer(s) paid" in paid.content.decode()
    transfer_plan.refresh_from_db()
    assert transfer_plan.status == "completed"
    # each decision is in the transfer's admin history and the export in the order's trail
    for transfer in BankTransfer.objects.all():
        messages = [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(transfer.pk)).order_by("id")]
        assert messages[0].startswith("Exported in bank-transfers-")
        assert messages[1] == "Marked paid: the refund is settled."
    exports = OrderEvent.objects.filter(order=transfer_plan.order, type="bank_transfer_exported")
    assert sorted(event.payload["bank_transfer"] for event in exports) == sorted(int(pk) for pk in ids)
    assert all(event.actor is not None for event in exports)


def test_an_exported_transfer_page_has_no_save(admin_client, transfer_plan):
    refund = transfer_plan.refunds.get(kind="items")
    refund_execute(refund_id=refund.pk)
    transfer = BankTransfer.objects.get(refund=refund)
    url = f"/admin/refunds/banktransfer/{transfer.pk}/change/"
    pending_page = admin_client.get(url).content.decode()

    bank_transfers_export(transfer_ids=[transfer.pk])
    exported_page = admin_client.get(url).content.decode()

    assert 'name="_save"' in pending_page
    assert 'name="_save"' not in exported_page
    assert f"/admin/refunds/banktransfer/{transfer.pk}/decide/mark-paid/" in exported_page


def test_admin_refuses_an_invalid_iban_correction(admin_client, transfer_plan):
    refund = transfer_plan.refunds.get(kind="items")
    refund_execute(refund_id=refund.pk)
    transfer = BankTransfer.objects.get(refund=refund)

    response = admin_client.post(
        f"/admin/refunds/banktransfer/{transfer.pk}/change/", {"new_iban": "DE00 1234", "holder_name": "X"}
    )

    assert response.status_code == 200
    assert "Not a valid IBAN" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.iban == IBAN


def test_admin_replaces_the_iban_of_a_pending_transfer_only_when_a_new_one_is_typed(admin_client, transfer_plan):
    refund = transfer_plan.refunds.get(kind="items")
    refund_execute(refund_id=refund.pk)
    transfer = BankTransfer.objects.get(refund=refund)
    url = f"/admin/refunds/banktransfer/{transfer.pk}/change/"

    admin_client.post(url, {"new_iban": "", "holder_name": "Ayse Y."})
    transfer.refresh_from_db()
    assert (transfer.iban, transfer.holder_name) == (IBAN, "Ayse Y.")

    admin_client.post(url, {"new_iban": "GB33 BUKB 2020 1555 5555 55", "holder_name": "Ayse Y."})
    transfer.refresh_from_db()
    assert transfer.iban == "GB33BUKB20201555555555"


def test_no_admin_page_shows_the_full_iban(admin_client, transfer_plan):
    # given: a bank-transfer refund, its transfer, and a request with an IBAN
    for refund in transfer_plan.refunds.all():
        refund_execute(refund_id=refund.pk)
    order = transfer_plan.order
    item = order.items.first()
    request = CancellationRequestFactory(order_item=item, iban=IBAN, holder_name="Ayse Yilmaz")
    pages = ["/admin/"]
    for model, pk in [
        ("refunds/refund", transfer_plan.refunds.first().pk),
        ("refunds/banktransfer", BankTransfer.objects.first().pk),
        ("cancellations/cancellationplan", transfer_plan.pk),
        ("cancellations/cancellationrequest", request.pk),
        ("orders/order", order.pk),
        ("orders/orderitem", item.pk),
    ]:
        pages += [f"/admin/{model}/", f"/admin/{model}/{pk}/change/", f"/admin/{model}/{pk}/history/"]

    # when / then
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert IBAN not in response.content.decode(), page
    masked = admin_client.get(f"/admin/refunds/banktransfer/{BankTransfer.objects.first().pk}/change/")
    assert "DE89**************3000" in masked.content.decode()
    # the bank's file is the one place it goes
    assert IBAN in bank_transfers_export(transfer_ids=list(BankTransfer.objects.values_list("pk", flat=True)))


def test_paying_a_selection_with_an_unexported_transfer_pays_nothing(transfer_plan):
    for refund in transfer_plan.refunds.all():
        refund_execute(refund_id=refund.pk)
    first, second = BankTransfer.objects.order_by("id")
    bank_transfers_export(transfer_ids=[first.pk])

    with pytest.raises(ApplicationError) as refused:
        bank_transfers_mark_paid(transfer_ids=[first.pk, second.pk])

    assert second.reference in refused.value.message
    assert list(BankTransfer.objects.order_by("id").values_list("status", flat=True)) == ["exported", "pending"]
    assert set(Refund.objects.values_list("status", flat=True)) == {"processing"}


@pytest.mark.parametrize("holder", ['=HYPERLINK("http://x","y")', "+1 555", "-2+3", "@SUM(A1)"])
def test_the_bank_file_never_carries_a_formula(channel, holder):
    order = order_with_items(channel=channel, payment_option="funds_transfer", lines=[(Decimal("10.00"), 1)])
    item = order.items.get()
    reason = CancellationReasonFactory(cancellation_type="cancel")
    plan = order_cancel(
        order_id=order.pk, item_ids=[item.pk], reasons={item.pk: reason.pk}, ibans={item.pk: IBAN},
        holder_names={item.pk: holder},
    )  # fmt: skip
    refund_execute(refund_id=plan.refunds.get().pk)

    exported = bank_transfers_export(transfer_ids=list(BankTransfer.objects.values_list("pk", flat=True)))

    (row,) = csv.DictReader(io.StringIO(exported))
    assert row["holder_name"] == "'" + holder
    assert row["iban"] == IBAN  # plain values are written as they are


@pytest.mark.parametrize(("value", "written"), [("\tx", "'\tx"), ("\rx", "'\rx"), ("Ayse", "Ayse"), (12, "12")])
def test_a_cell_that_a_spreadsheet_would_run_is_escaped(value, written):
    assert csv_cell(value) == written


def test_a_bulk_export_leaves_out_a_paid_transfer_and_says_so(admin_client):
    pending = BankTransferFactory(status="pending")
    paid = BankTransferFactory(status="paid")
    url = "/admin/refunds/banktransfer/"
    ids = [str(pending.pk), str(paid.pk)]

    confirmation = admin_client.post(url, {"action": "console_export", "_selected_action": ids}).content.decode()
    exported = admin_client.post(url, {"action": "console_export", "_selected_action": ids, "post": "yes"})
    page = admin_client.get(url).content.decode()

    assert "Will not be exported" in confirmation
    assert "Yes, export for the bank 1" in confirmation
    assert [row["reference"] for row in csv.DictReader(io.StringIO(exported.content.decode()))] == [pending.reference]
    assert f"{paid.reference}: not exported: its state changed." in page
    assert "1 transfer(s) exported to bank-transfers-" in page
    assert LogEntry.objects.filter(object_id=str(pending.pk)).count() == 1
    assert not LogEntry.objects.filter(object_id=str(paid.pk)).exists()
    paid.refresh_from_db()
    assert paid.status == "paid"
