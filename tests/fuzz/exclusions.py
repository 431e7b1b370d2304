"""Every check `make fuzz` does not hold an operation to, with the reason, in one place (README: "make fuzz").

Each entry: (check, method, path, reason). `tests/fuzz/run.py` turns them into schemathesis `[[operations]]`
settings that disable that check on that operation only; all other checks still run there. An entry naming an
operation the schema does not have stops the run (exit 2).

Only two kinds of reason stand here, both the contract's:
- `positive_data_acceptance` (a body the schema allows must be accepted): a business rule or a reference to an
  object refuses a schema-valid body with a 400 and a `code`, as API.md wants; no schema can say "an item of this
  order", "the amounts add up" or "a request still waiting".
- `negative_data_rejection` (a body the schema does not allow must be refused): the operation parses its body as
  Omnitron's DRF does, and Omnitron's clients rely on it: a boolean field takes `0`/`1` (and "true"/"false"), a
  text field takes a number as its text (channel integrations send remote ids as numbers).
"""

ACCEPT = "positive_data_acceptance"
REJECT = "negative_data_rejection"

NOT_WAITING = "only a waiting request can change (400 request_not_waiting)"
REFERENCE = "an id that names no object is 400 (DRF: does not exist)"
CANCEL_RULES = (
    "the cancel rules of API.md: something to cancel, items of this order, reasons of the right type, a refundable "
    "amount, an IBAN where a bank transfer refunds, and 422 for an Idempotency-Key reused with another body"
)
CHANNEL_OF_PATH = "a body's channel must be the path's channel (400 channel_mismatch)"
LENIENT_BOOLEAN = "a boolean field takes 0/1 and 'true'/'false' as Omnitron's (DRF) does"
LENIENT_TEXT = "remote_id takes a number as its text: channel integrations send remote ids as numbers"

EXCLUSIONS: list[tuple[str, str, str, str]] = [
    # Business rules and references refusing a schema-valid body.
    (ACCEPT, "POST", "/api/i1/auth/login/", "unknown credentials are 400 invalid_credentials (API.md)"),
    (ACCEPT, "DELETE", "/api/i1/channels/{id}/", "a channel with orders is 400 channel_in_use"),
    (ACCEPT, "POST", "/api/i1/users/", "a username already taken is 400 (unique); " + REFERENCE + " (channels)"),
    (ACCEPT, "PATCH", "/api/i1/users/{id}/", "a username already taken is 400 (unique); " + REFERENCE + " (channels)"),
    (ACCEPT, "DELETE", "/api/i1/users/{id}/", "deleting the user making the request is 400 cannot_delete_self"),
    (ACCEPT, "POST", "/api/i1/webhooks/", REFERENCE + " (channel)"),
    (ACCEPT, "PATCH", "/api/i1/webhooks/{id}/", REFERENCE + " (channel)"),
    (ACCEPT, "PATCH", "/api/i1/order_items/{id}/", "fulfilment status moves forward only; final items stay"),
    (ACCEPT, "PATCH", "/api/channel/{channel_id}/order_items/{id}/", "fulfilment moves forward only; final stays"),
    (ACCEPT, "POST", "/api/channel/{channel_id}/orders/", "the amounts must add up; currency an ISO 4217 code"),
    (ACCEPT, "POST", "/api/i1/orders/{id}/cancel/", CANCEL_RULES),
    (ACCEPT, "POST", "/api/i1/orders/{id}/cancel/quote/", CANCEL_RULES),
    (ACCEPT, "POST", "/api/channel/{channel_id}/orders/{id}/cancel/", CANCEL_RULES),
    (ACCEPT, "POST", "/api/channel/{channel_id}/orders/{id}/cancel/quote/", CANCEL_RULES),
    (ACCEPT, "POST", "/api/channel/{channel_id}/cancellation_requests/", "the request rules of API.md; " + REFERENCE),
    (ACCEPT, "PUT", "/api/channel/{channel_id}/cancellation_requests/{id}/", NOT_WAITING + "; the request rules"),
    (ACCEPT, "PATCH", "/api/channel/{channel_id}/cancellation_requests/{id}/", NOT_WAITING + "; the request rules"),
    (ACCEPT, "DELETE", "/api/channel/{channel_id}/cancellation_requests/{id}/", NOT_WAITING),
    (ACCEPT, "POST", "/api/channel/{channel_id}/cancellation_requests/{id}/approve/", NOT_WAITING),
    (ACCEPT, "POST", "/api/channel/{channel_id}/cancellation_requests/{id}/reject/", NOT_WAITING),
    (ACCEPT, "POST", "/api/i1/cancellation_plans/{id}/retry/", "only a failed plan is retried (400 plan_not_failed)"),
    (ACCEPT, "POST", "/api/channel/{channel_id}/batch_requests/", CHANNEL_OF_PATH),
    (
        ACCEPT,
        "PATCH",
        "/api/channel/{channel_id}/batch_requests/{id}/",
        "states move forward only, none out of done/fail",
    ),
    (ACCEPT, "POST", "/api/channel/{channel_id}/integration_actions/", CHANNEL_OF_PATH + "; one action per object"),
    # Omnitron's lenient parsing of a body.
    (REJECT, "POST", "/api/i1/cancellation_reasons/", LENIENT_BOOLEAN),
    (REJECT, "PUT", "/api/i1/cancellation_reasons/{id}/", LENIENT_BOOLEAN),
    (REJECT, "PATCH", "/api/i1/cancellation_reasons/{id}/", LENIENT_BOOLEAN),
    (REJECT, "POST", "/api/i1/channels/", LENIENT_BOOLEAN),
    (REJECT, "PUT", "/api/i1/channels/{id}/", LENIENT_BOOLEAN),
    (REJECT, "PATCH", "/api/i1/channels/{id}/", LENIENT_BOOLEAN),
    (REJECT, "POST", "/api/i1/users/", LENIENT_BOOLEAN),
    (REJECT, "PATCH", "/api/i1/users/{id}/", LENIENT_BOOLEAN),
    (REJECT, "POST", "/api/i1/webhooks/", LENIENT_BOOLEAN),
    (REJECT, "PATCH", "/api/i1/webhooks/{id}/", LENIENT_BOOLEAN),
    (REJECT, "POST", "/api/channel/{channel_id}/integration_actions/", LENIENT_TEXT),
    (REJECT, "PUT", "/api/channel/{channel_id}/integration_actions/{id}/", LENIENT_TEXT),
    (REJECT, "PATCH", "/api/channel/{channel_id}/integration_actions/{id}/", LENIENT_TEXT),
    # DELETE deactivates: the reason stays readable, as API.md says. A stateful scenario (DELETE, then GET) reports
    # the finding on the GET.
    ("use_after_free", "DELETE", "/api/i1/cancellation_reasons/{id}/", "DELETE deactivates (is_active false)"),
    ("use_after_free", "GET", "/api/i1/cancellation_reasons/{id}/", "a reason DELETE deactivated stays readable"),
]

# Operations the fuzzer does not call at all, with the reason.
SKIPPED_OPERATIONS: list[tuple[str, str, str]] = [
    ("POST", "/api/i1/auth/logout/", "revokes the very token the fuzzer authenticates with"),
]
