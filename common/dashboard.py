"""The admin index as an ops dashboard: cards that apps contribute, each a live count of rows that need someone,
linked to the changelist filtered to exactly those rows.

An app registers its cards from its admin module (`dashboard_card(...)`); an app that is not installed contributes
nothing. Every count is bounded (`DASHBOARD_COUNT_CAP`, shown as "1000+"), and every card's query must be one an
index serves: the page stays cheap however large the tables grow.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse

from common.admin import CappedCount

# Past this a card reads "1000+": counting further reads rows nobody acts on one by one.
DASHBOARD_COUNT_CAP = 1000

admin.site.index_template = "admin/ops/index.html"
# The lists need the width at 1400 px more than a second copy of the index beside them.
admin.site.enable_nav_sidebar = False


def bounded_count(queryset: QuerySet, cap: int | None = None) -> int:
    """COUNT over a LIMIT cap+1 subquery: stops reading after cap+1 rows."""
    cap = DASHBOARD_COUNT_CAP if cap is None else cap
    counted = queryset.order_by()[: cap + 1].count()
    return CappedCount(cap) if counted > cap else counted


@dataclass(frozen=True)
class DashboardCard:
    key: str
    title: str
    model: type
    # The rows that need someone; counted up to the cap.
    rows: Callable[[], QuerySet]
    # The changelist's query string that shows exactly those rows.
    changelist_query: str
    # A line under the count (e.g. how long the oldest has waited); None when nothing to add.
    detail: Callable[[], str | None] | None = None
    # "danger" for failures, "warning" for work waiting.
    tone: str = "warning"
    position: int = 100


_cards: dict[str, DashboardCard] = {}


def dashboard_card(card: DashboardCard) -> DashboardCard:
    """Register (or replace, by key) a card on the admin index."""
    _cards[card.key] = card
    return card


def dashboard_cards(user) -> list[dict]:
    """The cards this user may see, counted now."""
    shown = []
    for card in sorted(_cards.values(), key=lambda c: (c.position, c.key)):
        opts = card.model._meta
        if not admin.site.is_registered(card.model) or not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        count = bounded_count(card.rows())
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        shown.append(
            {
                "key": card.key,
                "title": card.title,
                "count": count,
                "url": f"{url}?{card.changelist_query}" if card.changelist_query else url,
                "detail": card.detail() if card.detail and count else None,
                "tone": card.tone if count else "calm",
            }
        )
    return shown
