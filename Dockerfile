# The API (gunicorn), the Celery worker and beat all run from this one image; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=false

WORKDIR /app

# The pinned dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install -c constraints.txt . \
    # Static files for the admin and the API docs (Swagger UI, Redoc): gunicorn serves them (WhiteNoise) from here.
    # The key only lets the settings load for this step; the running container must be given its own.
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && useradd --create-home --uid 1000 omnitron \
    # docker-compose.yml collects them again at start, as this user.
    && chown -R omnitron /app/staticfiles

USER omnitron
EXPOSE 8000

CMD ["gunicorn", "omnitron.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--logger-class", "omnitron.access_log.AccessLogger", \
     "--access-logformat", "%(h)s %(t)s \"%(r)s\" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s"]
