# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
# WeasyPrint needs Pango and HarfBuzz; the noticeboard PDFs embed Noto Sans CJK (fonts-noto-cjk),
# found through fontconfig. poppler-utils for PDF checks, curl for the health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 poppler-utils gettext curl postgresql-client \
    && fc-cache -f \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
# requirements.txt is hashed (pip-compile --generate-hashes): exactly the tested versions.
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input
RUN useradd --create-home app && mkdir -p /data/media /data/backups && chown -R app /data
USER app
EXPOSE 8000
# Liveness only (no database, no Redis): the web service's readiness check in
# docker-compose.yml uses /healthz; worker and beat override this check.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -fsS http://127.0.0.1:8000/livez || exit 1
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", \
     "--access-logfile", "-", "--access-logformat", "%(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(M)sms"]
