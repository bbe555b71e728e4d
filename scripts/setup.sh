#!/usr/bin/env bash
# Set up a development environment for Platoons: a Python venv with the project
# installed, and a reachable PostgreSQL server with PostGIS available and the
# project's database created. Idempotent; a second run is a quick no-op.
#
#   bash scripts/setup.sh
#
# Database URL: $PLATOONS_DATABASE_URL, else $DATABASE_URL, else
# postgresql://postgres@127.0.0.1:5432/platoons.
# For a local host it installs PostgreSQL + PostGIS from Debian if missing and
# starts a server (the Debian cluster on that port, or a project-owned throwaway
# cluster in /var/lib/postgresql/platoons-PORT). For a remote host it only checks.
# It does not create the postgis extension or any table: Alembic migrations do.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

say() { echo "setup: $*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"
    fi
}
as_postgres() {  # PostgreSQL refuses to run as root
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@")
    else (cd / && sudo -u postgres -- "$@")
    fi
}
is_installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }
APT_UPDATED=0
apt_install() {  # apt_install PKG...
    command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get on this machine; install them yourself"
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root apt-get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed"
}

SYS_PY=${PYTHON:-python3}
command -v "$SYS_PY" >/dev/null 2>&1 || die "python3 not found"

# ---------------------------------------------------------------- a. Python env
VENV=$ROOT/.venv
STAMP=$VENV/.platoons-stamp
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "venv .venv present ($("$VENV/bin/python" -V 2>&1))"
else
    [ -e "$VENV" ] && { say "venv .venv is broken; recreating it"; rm -rf "$VENV"; }
    if ! "$SYS_PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        # Debian's python3 ships venv/ensurepip in a separate package.
        command -v dpkg >/dev/null 2>&1 || die "$SYS_PY has no venv/ensurepip module"
        say "installing python3-venv (Debian)"
        apt_install python3-venv
    fi
    "$SYS_PY" -m venv "$VENV" || die "python3 -m venv .venv failed"
    say "venv .venv created ($("$VENV/bin/python" -V 2>&1))"
fi

HASH_FILES=(pyproject.toml)
[ -f requirements.lock ] && HASH_FILES+=(requirements.lock)
[ -f pyproject.toml ] || die "pyproject.toml not found in $ROOT"
WANT_HASH=$(sha256sum "${HASH_FILES[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_HASH" ]; then
    say "python deps up to date (stamp matches ${HASH_FILES[*]})"
else
    PIP_ARGS=(install -q --disable-pip-version-check -e '.[dev]')
    CONSTRAINTS=""
    if [ -f requirements.lock ]; then
        # The project itself may appear in a frozen lock (editable or direct
        # URL); pip refuses such lines as constraints, so drop them.
        CONSTRAINTS=$(mktemp)
        trap 'rm -f "$CONSTRAINTS"' EXIT
        grep -viE '^[[:space:]]*(-e[[:space:]]|--editable|platoons([^a-z0-9_.-]|$))' requirements.lock >"$CONSTRAINTS" || true
        PIP_ARGS+=(-c "$CONSTRAINTS")
    fi
    say "installing project into .venv: pip install -e '.[dev]'${CONSTRAINTS:+ -c requirements.lock}"
    "$VENV/bin/pip" "${PIP_ARGS[@]}" || die "pip install failed (see above)"
    echo "$WANT_HASH" >"$STAMP"
fi

# ---------------------------------------------------------------- GIS clients
# GDAL's ogrinfo/ogr2ogr (OAPIF driver) are the independent OGC API client the tests use.
if ! command -v ogrinfo >/dev/null 2>&1; then
    say "installing gdal-bin (Debian) for the GIS client tests"
    apt_install gdal-bin
else
    say "gdal-bin present ($(ogrinfo --version 2>/dev/null | cut -d, -f1))"
fi

# Debian's chromium is the browser the map tests drive through Playwright (`playwright install`
# would download its own browser, which needs internet beyond the package registries).
if [ ! -x /usr/bin/chromium ]; then
    say "installing chromium (Debian) for the browser tests"
    apt_install chromium
else
    say "chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
fi

# ---------------------------------------------------------------- b. Database
DB_URL=${PLATOONS_DATABASE_URL:-${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/platoons}}
PARSED=$("$SYS_PY" - "$DB_URL" <<'PY'
import getpass, shlex, sys
from urllib.parse import parse_qsl, unquote, urlsplit

url = sys.argv[1]
u = urlsplit(url)
if u.scheme.split("+")[0] not in ("postgresql", "postgres"):
    print(f"setup: ERROR: not a PostgreSQL URL (scheme {u.scheme!r})", file=sys.stderr)
    sys.exit(2)
q = dict(parse_qsl(u.query))
try:
    port = u.port or int(q.get("port") or 5432)
except ValueError:
    print("setup: ERROR: bad port in database URL", file=sys.stderr)
    sys.exit(2)
host = u.hostname or q.get("host", "")
user = unquote(u.username) if u.username else (q.get("user") or getpass.getuser())
password = unquote(u.password) if u.password is not None else q.get("password", "")
dbname = unquote(u.path.lstrip("/")) or q.get("dbname") or user
local = host in ("", "127.0.0.1", "localhost", "::1") or host.startswith("/")
out = {
    "DB_HOST": host, "DB_PORT": str(port), "DB_USER": user, "DB_PASSWORD": password,
    "DB_NAME": dbname, "DB_SSLMODE": q.get("sslmode", ""), "DB_LOCAL": "1" if local else "0",
    "DB_NAME_LIT": "'" + dbname.replace("'", "''") + "'",
    "DB_NAME_IDENT": '"' + dbname.replace('"', '""') + '"',
    "DB_LABEL": f"{('[' + host + ']') if ':' in host else (host or 'local-socket')}:{port}/{dbname}",
}
for k, v in out.items():
    print(f"{k}={shlex.quote(v)}")
PY
) || { [ $? -eq 2 ] && exit 1; die "could not parse the database URL with $SYS_PY"; }
eval "$PARSED"

# libpq settings for psql / pg_isready / psycopg (passed per command, never exported).
PGENV=(PGPORT="$DB_PORT" PGUSER="$DB_USER" PGCONNECT_TIMEOUT=5)
[ -n "$DB_HOST" ] && PGENV+=(PGHOST="$DB_HOST")
[ -n "$DB_PASSWORD" ] && PGENV+=(PGPASSWORD="$DB_PASSWORD")
[ -n "$DB_SSLMODE" ] && PGENV+=(PGSSLMODE="$DB_SSLMODE")

have_client() { command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1; }

# db_query DBNAME SQL -> rows as "a|b" lines; psql if present, else the venv's psycopg.
db_query() {
    if command -v psql >/dev/null 2>&1; then
        env "${PGENV[@]}" PGDATABASE="$1" psql -X -w -q -tA -v ON_ERROR_STOP=1 -c "$2"
    elif "$VENV/bin/python" -c 'import psycopg' >/dev/null 2>&1; then
        env "${PGENV[@]}" PGDATABASE="$1" "$VENV/bin/python" - "$2" <<'PY'
import sys, psycopg
try:
    with psycopg.connect("", autocommit=True) as conn:
        cur = conn.execute(sys.argv[1])
        for row in (cur.fetchall() if cur.description else []):
            print("|".join("" if v is None else str(v) for v in row))
except psycopg.Error as exc:
    sys.exit(str(exc).strip())
PY
    else
        die "no PostgreSQL client: neither psql nor psycopg (in .venv) is available"
    fi
}

reachable() {  # the server accepts connections (or, without pg_isready, the port is open)
    if command -v pg_isready >/dev/null 2>&1; then
        env "${PGENV[@]}" pg_isready -q -t 3 >/dev/null 2>&1
    else
        "$SYS_PY" - "$DB_HOST" "$DB_PORT" <<'PY' >/dev/null 2>&1
import os, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
if not host or host.startswith("/"):
    path = os.path.join(host or "/var/run/postgresql", f".s.PGSQL.{port}")
    s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(path)
else:
    socket.create_connection((host, port), timeout=3).close()
PY
    fi
}
wait_reachable() {  # wait_reachable SECONDS
    local i
    for ((i = 0; i < $1 * 4; i++)); do
        reachable && return 0
        sleep 0.25
    done
    return 1
}
CONNECT_ERR=""
can_connect() { CONNECT_ERR=$(db_query postgres 'select 1' 2>&1 >/dev/null) && return 0; return 1; }
server_major() { local n; n=$(db_query postgres 'SHOW server_version_num') && echo $((n / 10000)); }
postgis_available() {
    [ "$(db_query "$1" "select 1 from pg_available_extensions where name = 'postgis'" 2>/dev/null)" = "1" ]
}

# Debian cluster ("VER NAME STATUS") configured on our port, if any.
debian_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters -h 2>/dev/null | awk -v p="$DB_PORT" '$3 == p { print $1, $2, $4; exit }'
}

THROWAWAY=/var/lib/postgresql/platoons-$DB_PORT

start_throwaway() {  # start_throwaway MAJOR
    local major=$1 bin sockdir listen locale_opt
    [ -f "$THROWAWAY/PG_VERSION" ] && major=$(cat "$THROWAWAY/PG_VERSION")
    bin=/usr/lib/postgresql/$major/bin
    [ -x "$bin/initdb" ] || die "PostgreSQL $major server binaries not found in $bin"
    id postgres >/dev/null 2>&1 || die "system user 'postgres' missing (is postgresql-common installed?)"
    case "$DB_HOST" in
        /*) sockdir=$DB_HOST ;;
        "") sockdir=/var/run/postgresql ;;
        *) sockdir=/tmp ;;
    esac
    if [ ! -d "$sockdir" ]; then as_root install -d -o postgres -g postgres -m 2775 "$sockdir"; fi
    listen=127.0.0.1
    [ "$DB_HOST" = "::1" ] && listen=::1
    if [ ! -f "$THROWAWAY/PG_VERSION" ]; then
        # Only ever remove our own, half-initialised directory.
        [ -d "$THROWAWAY" ] && as_root rm -rf "$THROWAWAY"
        if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale_opt=--locale=C.UTF-8; else locale_opt=--no-locale; fi
        say "creating throwaway PostgreSQL $major cluster in $THROWAWAY (trust auth, superuser $DB_USER)"
        as_root install -d -o postgres -g postgres -m 0700 "$THROWAWAY"
        as_postgres "$bin/initdb" -D "$THROWAWAY" -A trust -U "$DB_USER" --no-sync -E UTF8 "$locale_opt" \
            >/dev/null || die "initdb failed for $THROWAWAY"
    fi
    say "starting throwaway cluster $THROWAWAY on port $DB_PORT"
    as_postgres "$bin/pg_ctl" -D "$THROWAWAY" -l "$THROWAWAY/server.log" -w -t 30 \
        -o "-p $DB_PORT -k $sockdir -c listen_addresses=$listen" start >/dev/null \
        || die "throwaway cluster failed to start; see $THROWAWAY/server.log"
}

if [ "$DB_LOCAL" = "1" ]; then
    # -- packages: PostgreSQL server + client + PostGIS for the relevant major version
    NEED=()
    if have_client && reachable && can_connect; then
        MAJOR=$(server_major) || die "could not read server_version_num from $DB_LABEL"
        if postgis_available postgres; then
            say "PostgreSQL $MAJOR reachable at $DB_LABEL with PostGIS available; no packages needed"
        else
            NEED=("postgresql-$MAJOR-postgis-3")
        fi
    else
        CL=$(debian_cluster)
        if [ -n "$CL" ]; then MAJOR=${CL%% *}
        elif [ -f "$THROWAWAY/PG_VERSION" ]; then MAJOR=$(cat "$THROWAWAY/PG_VERSION")
        else
            MAJOR=15  # Debian 12's default; else the newest server already installed
            for d in /usr/lib/postgresql/*/bin/initdb; do
                [ -x "$d" ] || continue
                v=${d#/usr/lib/postgresql/}; v=${v%%/*}
                [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$MAJOR" ] && MAJOR=$v
            done
        fi
        NEED=("postgresql-$MAJOR" "postgresql-$MAJOR-postgis-3" "postgresql-client-$MAJOR")
    fi
    if [ "${#NEED[@]}" -gt 0 ]; then
        if command -v dpkg >/dev/null 2>&1; then
            MISSING=()
            for p in "${NEED[@]}"; do is_installed "$p" || MISSING+=("$p"); done
            if [ "${#MISSING[@]}" -gt 0 ]; then
                say "installing Debian packages: ${MISSING[*]}"
                apt_install "${MISSING[@]}"
            else
                say "Debian packages present: ${NEED[*]}"
            fi
        else
            say "no dpkg here; skipping package installation (need: ${NEED[*]})"
        fi
    fi
    have_client || die "psql/pg_isready not found after package installation"

    # -- server: reachable, and accepting the URL's user without a password
    if ! reachable; then
        CL=$(debian_cluster)
        if [ -f "$THROWAWAY/PG_VERSION" ]; then
            start_throwaway "$MAJOR"
        elif [ -n "$CL" ]; then
            read -r CL_VER CL_NAME _ <<<"$CL"
            say "starting Debian cluster $CL_VER/$CL_NAME on port $DB_PORT"
            as_root pg_ctlcluster --skip-systemctl-redirect "$CL_VER" "$CL_NAME" start \
                || say "Debian cluster $CL_VER/$CL_NAME failed to start"
            wait_reachable 15 || true
        fi
    fi
    if reachable && ! can_connect; then
        CL=$(debian_cluster)
        if [ -n "$CL" ] && [ "${CL##* }" != "down" ]; then
            read -r CL_VER CL_NAME _ <<<"$CL"
            say "Debian cluster $CL_VER/$CL_NAME on port $DB_PORT refuses user '$DB_USER' without password" \
                "(${CONNECT_ERR//$'\n'/ }); STOPPING it to run a project-owned throwaway cluster on that port instead"
            as_root pg_ctlcluster --skip-systemctl-redirect "$CL_VER" "$CL_NAME" stop \
                || die "could not stop Debian cluster $CL_VER/$CL_NAME"
        else
            die "server at $DB_LABEL is up but refuses user '$DB_USER': ${CONNECT_ERR//$'\n'/ }"
        fi
    fi
    if ! reachable; then
        start_throwaway "$MAJOR"
    fi
    wait_reachable 30 || die "PostgreSQL at $DB_LABEL still not reachable after 30 s"
    can_connect || die "cannot connect to $DB_LABEL as '$DB_USER': ${CONNECT_ERR//$'\n'/ }"
    say "PostgreSQL reachable at $DB_LABEL as '$DB_USER'"
else
    reachable || die "remote database server $DB_LABEL is not reachable (setup.sh installs nothing for a remote host)"
    can_connect || die "cannot connect to remote $DB_LABEL as '$DB_USER': ${CONNECT_ERR//$'\n'/ }"
    say "PostgreSQL reachable at $DB_LABEL as '$DB_USER'"
fi

# -- database
EXISTS=$(db_query postgres "select 1 from pg_database where datname = $DB_NAME_LIT") \
    || die "could not query pg_database on $DB_LABEL"
if [ "$EXISTS" = "1" ]; then
    say "database '$DB_NAME' exists"
else
    # Clusters initialised without a UTF-8 locale (e.g. SQL_ASCII in bare
    # containers) would hand us a non-UTF8 template1: ask for UTF8 explicitly then.
    ENC=$(db_query postgres "select pg_encoding_to_char(encoding) from pg_database where datname = 'template1'")
    CREATE="CREATE DATABASE $DB_NAME_IDENT"
    [ "$ENC" = "UTF8" ] || CREATE="$CREATE TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    ERR=$(db_query postgres "$CREATE" 2>&1 >/dev/null) || die "could not create database '$DB_NAME': $ERR"
    say "database '$DB_NAME' created"
fi

# -- PostGIS must be available (the migrations run CREATE EXTENSION)
postgis_available "$DB_NAME" \
    || die "the postgis extension is not available on $DB_LABEL (install PostGIS for that server, e.g. postgresql-MAJOR-postgis-3)"
say "postgis extension available"

say "ok (database $DB_LABEL)"
