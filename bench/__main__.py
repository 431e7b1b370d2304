import os
import sys

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnitron.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # keep the per-refund log lines out of the figures
    django.setup()

    from bench import admin_changelist, cancellation
    from bench.database import throwaway_database

    with throwaway_database():
        results = [admin_changelist.run(), cancellation.run()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
