# syntax=docker/dockerfile:1
# Platoons API server. Needs an external PostgreSQL with PostGIS available:
#   docker build -t platoons .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://user:pass@dbhost:5432/platoons platoons
# All dependencies ship manylinux wheels (GDAL/GEOS/PROJ inside pyogrio/shapely/pyproj,
# libpq inside psycopg[binary]), so no compiler or system libraries are needed.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# 1. Dependencies only (cached while pyproject.toml / requirements.lock are unchanged).
#    The lock is optional: the [k] glob makes COPY skip it when absent. Lines naming the
#    project itself (editable / direct URL from `pip freeze`) are not valid constraints.
COPY pyproject.toml requirements.loc[k] ./
RUN set -eu; \
    if [ -f requirements.lock ]; then \
        grep -viE '^[[:space:]]*(-e[[:space:]]|--editable|platoons([^a-z0-9_.-]|$))' requirements.lock \
            > /tmp/constraints.txt || true; \
    else \
        : > /tmp/constraints.txt; \
    fi; \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/deps.txt; \
    pip install -r /tmp/deps.txt -c /tmp/constraints.txt

# 2. The project itself (non-editable), then drop the source tree.
COPY . .
RUN pip install -c /tmp/constraints.txt . \
    && cd / && rm -rf /src /tmp/deps.txt /tmp/constraints.txt

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/platoons platoons
USER platoons
WORKDIR /home/platoons

# DATABASE_URL must point at the external PostGIS database (no default on purpose).
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

CMD ["platoons", "serve", "--host", "0.0.0.0", "--port", "8000"]
