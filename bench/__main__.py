import os
import sys

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnitron.settings")
    django.setup()

    from bench import admin_changelist
    from bench.database import throwaway_database

    with throwaway_database():
        is_query_count_flat = admin_changelist.run()
    return 0 if is_query_count_flat else 1


if __name__ == "__main__":
    sys.exit(main())
