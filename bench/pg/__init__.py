"""`make bench-pg` (`python -m bench.pg`): the speed targets on PostgreSQL at 1M cancellation requests."""
