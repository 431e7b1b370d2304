"""The admin as an ops console: decisions on a row (approve, reject, retry, export) from its change page and as bulk
actions, always through a confirmation page that shows what will happen, and recorded in the admin's history.

An app declares its decisions on its ModelAdmin (`console_decisions`); each one runs the app's own service, so the
admin does exactly what the API does, with the same checks and locks. A decision made from a change page is a GET
of `<id>/<decision>/` (the confirmation) then a POST of it; a bulk action renders the same confirmation for the
selected rows, and only a POST carrying `post=yes` from that page runs it: a select-all never decides unseen.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from common.errors import ApplicationError

# A bulk decision shows every selected row before it runs; more than this is narrowed down first.
MAX_ROWS_PER_DECISION = 100


@dataclass(frozen=True)
class PreviewLine:
    """One money movement a decision causes, as the confirmation page shows it."""

    what: str
    amount: Decimal
    currency: str
    rail: str
    recipient: str = ""
    note: str = ""


@dataclass
class Preview:
    """What deciding one row would do, or why it would be refused."""

    lines: list[PreviewLine] = field(default_factory=list)
    refusal: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Outcome:
    """What a decision did, in words an ops person acts on."""

    message: str
    level: int = messages.SUCCESS
    # What goes into the row's admin history (LogEntry); the message when empty.
    history: str = ""
    # A response to send instead of going back (a file to download).
    response: object = None
    # Nothing was done: a rule refused it (not recorded in the history).
    is_refused: bool = False


@dataclass(frozen=True)
class Decision:
    name: str  # in the URL: approve, reject, retry, export
    label: str  # on the button: "Approve"
    past: str  # in messages: "approved"
    # Which rows it applies to (its button shows only on those pages).
    applies: Callable[[object], bool]
    preview: Callable[[object], Preview]
    # Runs the service for one row, as `user`.
    perform: Callable[[object, object], Outcome] | None = None
    # Or, for a decision made over all its rows at once (an export is one file): rows, user -> Outcome. A change
    # page's decision runs it over its one row.
    perform_many: Callable[[list, object], Outcome] | None = None
    is_danger: bool = False

    def __post_init__(self):
        if (self.perform is None) == (self.perform_many is None):
            raise TypeError(f"Decision {self.name!r} needs exactly one of perform and perform_many.")


@cache
def page_annotated(changelist_class: type) -> type:
    """The changelist, with `page_annotations()` computed for the rows of the page only: not in the count, not in
    the query that picks the page's ids. Needs a changelist whose result list is an unsliced queryset of the page
    (`common.admin.PageByIdsChangeList`)."""

    class PageAnnotatedChangeList(changelist_class):
        def get_results(self, request):
            super().get_results(request)
            self.result_list = self.result_list.annotate(**self.model_admin.page_annotations())

    return PageAnnotatedChangeList


class ConsoleMixin:
    """Adds the decisions' buttons to the change page, their confirmation pages, and bulk actions that confirm."""

    change_form_template = "admin/ops/change_form.html"
    console_decisions: tuple[Decision, ...] = ()
    # The relations the decisions' previews and messages read of a row: joined to the rows of a bulk decision.
    console_select_related: tuple[str, ...] = ()

    def page_annotations(self) -> dict:
        """Columns a list reads from other tables, as subqueries of the page's own query (e.g. a last error)."""
        return {}

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        return page_annotated(changelist) if self.page_annotations() else changelist

    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["admin/ops/console.css"]})

    def console_decision(self, name: str) -> Decision:
        for decision in self.console_decisions:
            if decision.name == name:
                return decision
        raise Http404(f"No decision {name!r} here.")

    def has_decision_permission(self, request) -> bool:
        opts = self.model._meta
        return (
            request.user.is_active
            and request.user.is_staff
            and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
        )

    def get_urls(self):
        opts = self.model._meta
        decide = self.admin_site.admin_view(self.decision_view)
        return [
            path(
                "<path:object_id>/decide/<slug:decision_name>/",
                decide,
                name=f"{opts.app_label}_{opts.model_name}_decide",
            ),
            *super().get_urls(),
        ]

    def _admin_url(self, view: str, *args) -> str:
        """The URL of this admin's `view` (changelist, change, decide)."""
        opts = self.model._meta
        return reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{view}", args=args)

    def decision_url(self, obj, decision: Decision) -> str:
        return self._admin_url("decide", obj.pk, decision.name)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The row the change page already loaded: its decisions' buttons need no second read of it.
        tools = []
        if obj is not None and self.has_decision_permission(request):
            tools = [
                {"label": d.label, "url": self.decision_url(obj, d), "is_danger": d.is_danger, "name": d.name}
                for d in self.console_decisions
                if d.applies(obj)
            ]
        context["console_tools"] = tools
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decision_view(self, request, object_id, decision_name):
        decision = self.console_decision(decision_name)
        if not self.has_decision_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such row.")
        change_url = self._admin_url("change", obj.pk)
        if request.method == "POST":
            return self._perform(request, decision, [obj]) or HttpResponseRedirect(change_url)
        return self._confirmation(request, decision, [obj], cancel_url=change_url)

    def _perform(self, request, decision: Decision, rows: list):
        """Decide the rows: a message says what happened to each, the history records what was done. Returns the
        response a decision answers with (a file), if any."""

        def refused(what, why: str) -> Outcome:
            return Outcome(f"{what}: not {decision.past}: {why}", messages.ERROR, is_refused=True)

        decidable = [row for row in rows if decision.applies(row)]
        results = [(row, refused(row, "its state changed.")) for row in rows if row not in decidable]
        if decision.perform_many is not None and decidable:
            try:
                outcome = decision.perform_many(decidable, request.user)
            except ApplicationError as exc:
                outcome = refused("Nothing", exc.message)
            results += [(row, outcome) for row in decidable]  # one outcome for all of them
        elif decidable:
            for row in decidable:
                try:
                    results.append((row, decision.perform(row, request.user)))
                except ApplicationError as exc:
                    results.append((row, refused(row, exc.message)))
        shown = []
        for row, outcome in results:
            if not outcome.is_refused:
                self.log_change(request, row, outcome.history or outcome.message)
            if not any(outcome is seen for seen in shown):
                shown.append(outcome)
                self.message_user(request, outcome.message, outcome.level)
        return next((outcome.response for outcome in shown if outcome.response is not None), None)

    def _confirmation(self, request, decision: Decision, rows: list, *, cancel_url: str, is_bulk: bool = False):
        previews = []
        for row in rows:
            preview = (
                decision.preview(row) if decision.applies(row) else Preview(refusal="Its state does not allow it.")
            )
            previews.append({"row": row, "preview": preview, "total": _totals(preview.lines)})
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.label}: are you sure?",
            "opts": self.model._meta,
            "decision": decision,
            "previews": previews,
            "decidable": sum(1 for p in previews if not p["preview"].refusal),
            "grand_total": _totals([line for p in previews if not p["preview"].refusal for line in p["preview"].lines]),
            "cancel_url": cancel_url,
            "is_bulk": is_bulk,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": f"console_{decision.name}",
        }
        return TemplateResponse(request, "admin/ops/confirm.html", context)

    def decide_selected(self, request, queryset, decision_name: str):
        """A bulk action: the confirmation page first; only its POST (post=yes) decides."""
        decision = self.console_decision(decision_name)
        if not self.has_decision_permission(request):
            raise PermissionDenied
        rows = list(queryset.select_related(*self.console_select_related).order_by("pk")[: MAX_ROWS_PER_DECISION + 1])
        if len(rows) > MAX_ROWS_PER_DECISION:
            self.message_user(
                request,
                f"Select at most {MAX_ROWS_PER_DECISION} rows for one decision (filter the list down first).",
                messages.ERROR,
            )
            return None
        if request.POST.get("post") == "yes":
            return self._perform(request, decision, rows)
        return self._confirmation(request, decision, rows, cancel_url=self._admin_url("changelist"), is_bulk=True)


def _totals(lines: list[PreviewLine]) -> list[str]:
    by_currency: dict[str, Decimal] = {}
    for line in lines:
        by_currency[line.currency] = by_currency.get(line.currency, Decimal("0.00")) + line.amount
    return [f"{amount:.2f} {currency.upper()}" for currency, amount in sorted(by_currency.items())]


def bulk_action(decision_name: str, description: str):
    """A changelist action that runs `decision_name` through its confirmation page."""

    def action(model_admin, request, queryset):
        return model_admin.decide_selected(request, queryset, decision_name)

    action.__name__ = f"console_{decision_name}"
    return admin.action(description=description)(action)
