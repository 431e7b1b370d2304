"""An ops person's day in the admin, in a real browser: from the dashboard to the waiting requests, an approval
through its confirmation page, a rejection, a failed refund read and retried, bank transfers exported."""

import csv
import io
import re
from pathlib import Path

from cancellations.models import CancellationRequest
from refunds.models import BankTransfer, Refund
from tests.browser.conftest import screenshot

DEMO_IBAN = "TR330006100519786457841326"
MASKED_DEMO_IBAN = "TR33******************1326"


def click_to_next_page(page, target) -> None:
    with page.expect_navigation():
        target.click()


def open_card(page, title: str):
    page.goto("/admin/")
    card = page.locator("a.ops-card", has_text=title)
    count = card.locator(".ops-count").inner_text()
    click_to_next_page(page, card)
    return count


def messages(page) -> str:
    return page.locator("ul.messagelist").inner_text()


def test_the_dashboard_leads_to_the_waiting_requests(page):
    # given: the dashboard, as ops see it first
    page.goto("/admin/")
    shot = screenshot(page, "dashboard")

    # when
    count = open_card(page, "Requests waiting a decision")

    # then
    assert shot.stat().st_size > 0
    assert count == "3"
    assert "status__exact=waiting" in page.url
    screenshot(page, "requests-waiting")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert all(text == "Waiting" for text in rows.locator("td.field-status").all_inner_texts())
    # the columns ops read first are on screen at 1400 px
    for column in ("order", "sku", "quantity", "value", "status", "last_error_short"):
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box is not None, column
        assert box["x"] + box["width"] <= 1400, column


def test_approve_a_request_through_its_confirmation_page(page):
    # given: the bank-transfer request, from the dashboard
    open_card(page, "Requests waiting a decision")
    click_to_next_page(page, page.get_by_role("link", name="DEMO-OPS-02"))
    request_id = int(re.search(r"/(\d+)/change/", page.url).group(1))

    # when: Approve shows what will be refunded, to whom, before anything happens
    click_to_next_page(page, page.locator("a.ops-decision-approve"))
    confirmation = page.locator("#content-main").inner_text()
    screenshot(page, "approval-confirmation")
    status_while_confirming = CancellationRequest.objects.get(pk=request_id).status
    click_to_next_page(page, page.locator("input[type=submit][name=confirm]"))

    # then
    assert "749.00 TRY" in confirmation
    assert "Funds transfer" in confirmation
    assert f"Ayse Yilmaz, IBAN {MASKED_DEMO_IBAN}" in confirmation
    assert DEMO_IBAN not in page.content()
    assert status_while_confirming == "waiting"
    assert f"Request #{request_id} approved (plan #" in messages(page)
    assert "waits for the bank transfer export" in messages(page)
    assert page.locator(".field-status .readonly").inner_text() == "Approved"
    assert page.locator("a.ops-decision-approve").count() == 0
    assert CancellationRequest.objects.get(pk=request_id).status == "approved"


def test_reject_a_request_from_the_list(page):
    # given
    open_card(page, "Requests waiting a decision")
    row = page.locator("#result_list tbody tr", has_text="DEMO-OPS-01")
    request_id = int(row.locator("input.action-select").get_attribute("value"))

    # when: a bulk action, which confirms too
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "console_reject")
    click_to_next_page(page, page.locator("button[name=index]"))
    click_to_next_page(page, page.locator("input[type=submit][name=confirm]"))

    # then
    assert f"Request #{request_id} rejected" in messages(page)
    assert CancellationRequest.objects.get(pk=request_id).status == "rejected"


def test_read_a_failed_refund_and_retry_it_from_its_page(page):
    # given: the failed refund, from the dashboard
    assert open_card(page, "Refunds failed") == "1"
    click_to_next_page(page, page.locator("#result_list tbody tr th a").first)
    refund_id = int(re.search(r"/(\d+)/change/", page.url).group(1))
    error = page.locator(".field-last_error .readonly").inner_text()

    # when
    click_to_next_page(page, page.locator("a.ops-decision-retry"))
    confirmation = page.locator("#content-main").inner_text()
    click_to_next_page(page, page.locator("input[type=submit][name=confirm]"))

    # then: the sandbox refuses again, and the message says so with the gateway's words
    assert error == "sandbox_declined: the sandbox was told to refuse"
    assert "sandbox_declined" in confirmation
    assert f"retried: failed again: refund #{refund_id}: sandbox_declined" in messages(page)
    assert Refund.objects.get(pk=refund_id).attempts == 2


def test_export_the_bank_transfers(page):
    # given: the transfers to export, from the dashboard
    assert open_card(page, "Bank transfers to export") == "2"

    # when: all of them, through the confirmation, into a file
    page.check("#action-toggle")
    page.select_option("select[name=action]", "console_export")
    click_to_next_page(page, page.locator("button[name=index]"))
    confirmation = page.locator("#content-main").inner_text()
    with page.expect_download() as download:
        page.locator("input[type=submit][name=confirm]").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")

    # then: the file has the full account; the page never did
    assert MASKED_DEMO_IBAN in confirmation
    assert DEMO_IBAN not in confirmation
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [row["iban"] for row in rows] == [DEMO_IBAN, DEMO_IBAN]
    assert {row["order_number"] for row in rows} == {"DEMO-OPS-07"}
    assert set(BankTransfer.objects.values_list("status", flat=True)) == {"exported"}
    page.goto("/admin/")
    assert page.locator("a.ops-card", has_text="Bank transfers to export").locator(".ops-count").inner_text() == "0"
