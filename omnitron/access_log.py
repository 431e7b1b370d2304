"""gunicorn's access log for this service (`--logger-class omnitron.access_log.AccessLogger`, as docker-compose.yml
runs it): a line for each answer below 400. A 4xx or 5xx is logged by the application instead (django.request), with
its reason and request id, so each error shows up once, as under the development server."""

from gunicorn.glogging import Logger


class AccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if (getattr(resp, "status_code", None) or 0) >= 400:
            return
        super().access(resp, req, environ, request_time)
