"""Every timestamp goes out as ISO 8601 with a four-digit year, also before the year 1000 (a client may send one:
`version_date` takes any moment); glibc's `%Y` wrote the year 269 as "269", which no ISO 8601 parser reads."""

from datetime import UTC, datetime

import pytest
from django.utils.dateparse import parse_datetime

from tests.factories import IntegrationActionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(269, 2, 12, 18, 54, 35, 960300, tzinfo=UTC), "0269-02-12T18:54:35.960300Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000Z"),
        (datetime(2026, 11, 24, 13, 0, tzinfo=UTC), "2026-11-24T13:00:00.000000Z"),
    ],
)
def test_a_timestamp_is_written_with_a_four_digit_year(channel_client, channel, moment, text):
    action = IntegrationActionFactory(channel=channel, version_date=moment)
    response = channel_client.get(f"/api/channel/{channel.pk}/integration_actions/{action.pk}/")
    assert response.status_code == 200
    assert response.json()["version_date"] == text
    assert parse_datetime(text) == moment


def test_a_timestamp_sent_before_the_year_1000_comes_back_as_sent(channel_client, channel):
    action = IntegrationActionFactory(channel=channel)
    response = channel_client.patch(
        f"/api/channel/{channel.pk}/integration_actions/{action.pk}/",
        {"version_date": "0692-07-10T09:01:42Z"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version_date"] == "0692-07-10T09:01:42.000000Z"
