"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS by tests/fuzz/run.py).

The fuzzer's own accounts are left alone: a write to them (a new password revokes the token, `is_staff: false`, a
delete) would turn the rest of the run into 401/403s, which tests nothing.
"""

import os

import schemathesis

PROTECTED_USER_IDS = {int(value) for value in os.environ.get("FUZZ_PROTECTED_USER_IDS", "").split(",") if value}


@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    operation = context.operation
    if operation is None or "/users/{id}/" not in operation.path or operation.method.upper() == "GET":
        return True
    if not isinstance(path_parameters, dict):
        return True  # a negative case may have none: nothing it names is protected
    try:
        return int(path_parameters.get("id")) not in PROTECTED_USER_IDS
    except (TypeError, ValueError):
        return True
