"""gunicorn's settings for every way the service is served (gunicorn reads this file from the working directory):
`make gunicorn`, the Docker image, docker-compose and the tests and benchmarks that start it."""

# gunicorn refuses a request line over 4094 bytes with an HTML page of its own. Lifted (0: up to gunicorn's hard
# 1 MiB), so the service's limit on the URL (common/api/middleware.py) answers instead, in JSON like every error.
limit_request_line = 0


def post_worker_init(worker):
    """Once a worker has imported the application, move everything it has allocated so far (modules, URL
    resolvers, serializer plans) out of the garbage collector's reach: those objects live as long as the worker, and
    otherwise every full collection walks them again, a pause of tens of milliseconds on a request under load."""
    import gc

    gc.collect()
    gc.freeze()
