def mask_iban(iban: str | None) -> str | None:
    """First 4 and last 4 characters; the rest starred. The full IBAN never leaves the service but in the bank's
    transfer file: not in an API response, not on an admin page."""
    if not iban:
        return iban
    if len(iban) <= 8:
        return "*" * len(iban)
    return f"{iban[:4]}{'*' * (len(iban) - 8)}{iban[-4:]}"
