"""Concurrent channel-app runs on PostgreSQL: the upsert and the row lock, not luck, keep one action per object and
one final status per batch."""

import pytest

from channels.models import BatchRequest, IntegrationAction
from tests.concurrency import race
from tests.factories import BatchRequestFactory, ChannelFactory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12


def test_concurrent_commits_of_the_same_objects_make_one_action_each():
    # given: every thread commits its own batch listing the same orders, in its own order
    channel = ChannelFactory()
    orders = [order_with_items(channel=channel) for _ in range(5)]
    batches = [BatchRequestFactory(channel=channel) for _ in range(THREADS)]

    def send(client, index):
        listed = orders[index % 5 :] + orders[: index % 5]
        objects = [{"pk": o.pk, "content_type": "order", "remote_id": f"R{o.pk}-{index}"} for o in listed]
        return client.patch(
            f"/api/channel/{channel.pk}/batch_requests/{batches[index].pk}/",
            {"status": "commit", "objects": objects, "content_type": "order"},
            format="json",
        )

    # when
    results = race(send, threads=THREADS)

    # then
    assert [status for status, _ in results] == [200] * THREADS, results
    assert IntegrationAction.objects.count() == 5
    assert set(IntegrationAction.objects.values_list("object_id", flat=True)) == {o.pk for o in orders}


def test_concurrent_creates_of_one_action_make_one_and_refuse_the_rest():
    order = order_with_items()
    url = f"/api/channel/{order.channel_id}/integration_actions/"

    results = race(
        lambda client, index: client.post(
            url, {"content_type": "order", "object_id": order.pk, "remote_id": f"R{index}"}, format="json"
        ),
        threads=THREADS,
    )

    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1, results
    assert {response.json()["code"] for status, response in results if status != 201} == {"integration_action_exists"}
    assert IntegrationAction.objects.count() == 1


def test_racing_final_transitions_leave_one_winner():
    batch = BatchRequestFactory(status="commit")
    url = f"/api/channel/{batch.channel_id}/batch_requests/{batch.pk}/"

    results = race(
        lambda client, index: client.patch(url, {"status": "done" if index % 2 else "fail"}, format="json"),
        threads=THREADS,
    )

    winners = [response.json()["status"] for status, response in results if status == 200]
    assert len(winners) == 1, results
    assert {response.json()["code"] for status, response in results if status != 200} == {"batch_transition_invalid"}
    assert BatchRequest.objects.get(pk=batch.pk).status == winners[0]
