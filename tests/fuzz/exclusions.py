"""Every check `make fuzz` does not hold an operation to, with the reason, in one place (README: "make fuzz").

Each entry: (check, method, path, reason). `tests/fuzz/run.py` turns them into schemathesis `[[operations]]`
settings that disable that check on that operation only; all other checks still run there.
"""

BUSINESS_RULE = "a schema-valid body that a business rule refuses with 400 and a `code`, as the contract wants"
EXCLUSIONS: list[tuple[str, str, str, str]] = [
    ("positive_data_acceptance", "DELETE", "/api/i1/channels/{id}/", "a channel with orders is 400 channel_in_use"),
    ("positive_data_acceptance", "POST", "/api/i1/users/", "a username already taken is 400 (unique)"),
    ("positive_data_acceptance", "PUT", "/api/i1/users/{id}/", "a username already taken is 400 (unique)"),
    ("positive_data_acceptance", "PATCH", "/api/i1/users/{id}/", "a username already taken is 400 (unique)"),
    ("positive_data_acceptance", "PATCH", "/api/i1/order_items/{id}/", BUSINESS_RULE + " (item_final, ...)"),
    ("positive_data_acceptance", "PATCH", "/api/channel/{channel_id}/order_items/{id}/", BUSINESS_RULE),
    ("positive_data_acceptance", "PUT", "/api/channel/{channel_id}/cancellation_requests/{id}/", BUSINESS_RULE),
    ("positive_data_acceptance", "PATCH", "/api/channel/{channel_id}/cancellation_requests/{id}/", BUSINESS_RULE),
    ("use_after_free", "DELETE", "/api/i1/cancellation_reasons/{id}/", "DELETE deactivates (is_active false)"),
]

# Operations the fuzzer does not call at all, with the reason.
SKIPPED_OPERATIONS: list[tuple[str, str, str]] = [
    ("POST", "/api/i1/auth/logout/", "revokes the very token the fuzzer authenticates with"),
]
