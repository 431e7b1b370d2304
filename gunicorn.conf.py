"""gunicorn's settings for every way the service is served (gunicorn reads this file from the working directory):
`make gunicorn`, the Docker image, docker-compose and the tests and benchmarks that start it."""

# gunicorn refuses a request line over 4094 bytes with an HTML page of its own. Lifted (0: up to gunicorn's hard
# 1 MiB), so the service's limit on the URL (common/api/middleware.py) answers instead, in JSON like every error.
limit_request_line = 0
