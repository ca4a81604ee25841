# Production image of docsvc: the web app (gunicorn), Celery worker and beat share it.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends poppler-utils tesseract-ocr tesseract-ocr-vie curl \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --uid 10001 docsvc
WORKDIR /app
COPY pyproject.toml README.md ./
COPY docsvc ./docsvc
COPY storage ./storage
COPY search ./search
COPY signing ./signing
RUN pip install --no-cache-dir .
USER docsvc
ENV DOCSVC_DATA_DIR=/var/lib/docsvc
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "8", "--worker-class", "gthread", "docsvc.web.app:create_app()"]
