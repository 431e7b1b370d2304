ALIAS_PREFIX = "/api/v1/"


def drop_alias_routes(endpoints):
    """drf-spectacular preprocessing hook: leave the `/api/v1/` aliases out, each route is documented once under its
    canonical prefix."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(ALIAS_PREFIX)]
