import logging.config
import os

from celery import Celery, signals
from django.db import close_old_connections

from common.request_id import clean_request_id, get_request_id, new_request_id, reset_request_id, set_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnitron.settings")

app = Celery("omnitron")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The task message header that carries the request id from the sender to the worker.
REQUEST_ID_HEADER = "request_id"


@app.on_after_configure.connect
def _in_memory_transport_without_broker(sender, **kwargs) -> None:
    """Without CELERY_BROKER_URL tasks run in-process (always eager), yet sending one still builds a producer: on the
    default amqp://localhost that means a connection object for nothing and kombu's "No hostname was supplied"
    warning. The in-memory transport, named with a host, stays in the process and quiet."""
    if not sender.conf.broker_url:
        sender.conf.broker_url = "memory://localhost/"


@signals.setup_logging.connect
def _django_logging(**kwargs) -> None:
    """Workers and beat log as the web processes do (settings.LOGGING: the format, the request id), instead of
    Celery replacing the root logger's handlers with its own."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs) -> None:
    """A task carries the id of the request that sent it; one sent outside a request (beat, a shell) gets its own."""
    if headers is not None and not headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = get_request_id() or new_request_id()


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs) -> None:
    """In the worker, the sender's id becomes current for the task's run. A task run in-process (no broker) keeps the
    id of the request it runs in."""
    if task is None:
        return
    sent = clean_request_id(getattr(task.request, REQUEST_ID_HEADER, None))
    task.request.request_id_token = set_request_id(sent or get_request_id() or new_request_id())


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """In a worker, a task is to the database connection what a request is in a web process: before and after it,
    a connection past CONN_MAX_AGE, or unusable after an error, is closed, and the next query opens a new one.
    Celery's own closing is kept rare (settings.CELERY_DB_REUSE_MAX). A task run in-process leaves its request's
    connection alone."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


@signals.task_postrun.connect
def _forget_request_id(task=None, **kwargs) -> None:
    token = getattr(task.request, "request_id_token", None) if task is not None else None
    if token is not None:
        reset_request_id(token)
        task.request.request_id_token = None
