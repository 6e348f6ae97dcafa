# promo production image: gunicorn (web), celery worker and beat all run from it.

# Front-end packages (ECharts for the cockpit) from the pinned package-lock.json; only the
# built files are copied into the final image, never from a CDN at run time.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

COPY . .
# PYTHONPATH=/app: gunicorn, celery and manage.py all import the code from /app (next to
# templates/ and static/), not the copy pip puts in site-packages.
RUN pip install -c constraints.txt .
COPY --from=assets /assets/node_modules/echarts/dist /app/node_modules/echarts/dist

# The English catalogue is compiled here (pure Python, polib), as `make install` does.
RUN DEBUG=0 \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only-0123456789 \
    PROMO_FIELD_KEYS=YnVpbGQtb25seS1ub3QtYS1rZXktYnVpbGQtb25seS0= \
    PROMO_BLIND_INDEX_KEY=build-only-not-a-key \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py compile_translations

# Static files are collected into the image. The settings need these variables to load;
# the values exist only for this build step, they are never used at run time.
RUN DEBUG=0 \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only-0123456789 \
    PROMO_FIELD_KEYS=YnVpbGQtb25seS1ub3QtYS1rZXktYnVpbGQtb25seS0= \
    PROMO_BLIND_INDEX_KEY=build-only-not-a-key \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --create-home promo \
    && mkdir -p /app/var/media /app/var/beat \
    && chown -R promo:promo /app/var
USER promo

EXPOSE 8000
CMD ["gunicorn", "-c", "python:promo.gunicorn_conf", "promo.wsgi:application"]
