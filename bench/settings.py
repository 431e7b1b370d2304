"""Settings of `make bench-pg`'s server: the service's own, plus the floor view's URLs and a query counter."""

from omnitron.settings import *  # noqa: F403
from omnitron.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# Outermost, so it counts every query of the request, the session and token lookups included.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
