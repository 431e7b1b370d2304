"""Health check of Celery beat, for docker-compose.yml: `python -m omnitron.beat_health SCHEDULE [--max-age SECONDS]`.

Beat writes its schedule file each time it sends a task (CELERY_BEAT_SYNC_EVERY = 1), and the refund sweeper is sent
every REFUND_SWEEP_INTERVAL seconds: a schedule file older than a few intervals means beat's loop has stopped, even if
its process is still there. Exit status 0 when healthy, 1 when not (with the reason on stderr).
"""

import argparse
import glob
import os
import sys
import time


def schedule_age(schedule: str) -> float | None:
    """Seconds since beat last wrote its schedule (dbm may add a suffix to the name: .db, .dat...), None if never."""
    files = glob.glob(glob.escape(schedule) + "*")
    if not files:
        return None
    return time.time() - max(os.path.getmtime(path) for path in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omnitron.beat_health", description=__doc__.splitlines()[0])
    parser.add_argument("schedule", help="beat's --schedule path")
    parser.add_argument("--max-age", type=float, default=300.0, help="seconds without a write before unhealthy")
    args = parser.parse_args(argv)
    age = schedule_age(args.schedule)
    if age is None:
        print(f"unhealthy: no schedule file at {args.schedule}", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"unhealthy: the schedule was last written {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
