"""Benchmarks that print figures for people to read: `make bench` or `python -m bench`. Nothing asserts on timing."""
