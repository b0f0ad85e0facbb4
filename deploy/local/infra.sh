#!/usr/bin/env bash
# Make sure what Kooperacja runs on is here and running: Python venv with the project,
# PostgreSQL on 127.0.0.1:5432 and RabbitMQ on 127.0.0.1:5672. Sourced by run.sh, test.sh, .ci/run.
# Starts what is installed but stopped; installs Debian packages when root; otherwise says
# exactly what is missing.
set -euo pipefail

KOOP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_HOST=127.0.0.1
PG_PORT=5432

say() { printf '[kooperacja] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 "${3:-60}"); do port_open "$1" "$2" && return 0; sleep 1; done
  return 1
}
as_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
  as_root || return 1
  command -v apt-get >/dev/null || return 1
  say "installing Debian packages: $*"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_python() {
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || die "python3 (3.11 or newer) is missing: install it first"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed; $("$py" --version) found"
  if [ ! -x "$KOOP_ROOT/.venv/bin/python" ]; then
    say "creating the virtual environment .venv"
    "$py" -m venv "$KOOP_ROOT/.venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  fi
  # The exact versions of deploy/requirements-dev.lock (hashes checked), the same the image's
  # deploy/requirements.lock is cut from; then the project itself, without resolving anything.
  say "installing the locked dependencies and the project into .venv"
  "$KOOP_ROOT/.venv/bin/pip" install -q --disable-pip-version-check \
    -r "$KOOP_ROOT/deploy/requirements-dev.lock" 2>&1 \
    | grep -v -e '^WARNING: Location' -e '^$' >&2 || true
  "$KOOP_ROOT/.venv/bin/pip" install -q --disable-pip-version-check --no-deps -e "$KOOP_ROOT" 2>&1 \
    | grep -v -e '^WARNING: Location' -e '^$' >&2 || true
  "$KOOP_ROOT/.venv/bin/pip" check >&2 \
    || die "the installed packages do not satisfy pyproject.toml: run deploy/lock.sh after changing a dependency"
  "$KOOP_ROOT/.venv/bin/python" -c 'import faststream, asyncpg, fastapi' \
    || die "the Python dependencies did not install; see the pip output above"
}

ensure_postgres() {
  port_open $PG_HOST $PG_PORT && return 0
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql || die "PostgreSQL is not running on $PG_HOST:$PG_PORT and is not installed; install PostgreSQL 15+ (Debian: apt-get install postgresql) or point KOOP_POSTGRES_URL at a server"
    local fresh=1
  fi
  local version
  version=$(ls /etc/postgresql | sort -n | tail -1)
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port $PG_HOST $PG_PORT 60 || die "PostgreSQL did not start; see /var/log/postgresql/"
  if [ "${fresh:-0}" = 1 ]; then
    # A new Debian cluster asks for a password on TCP; the local defaults expect trust on loopback.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    say "PostgreSQL installed; trust for user postgres on 127.0.0.1 added to $hba"
  fi
}

ensure_rabbitmq() {
  if ! port_open 127.0.0.1 5672; then
    if ! command -v rabbitmq-server >/dev/null; then
      apt_install rabbitmq-server || die "RabbitMQ is not running on 127.0.0.1:5672 and is not installed; install RabbitMQ 3.10+ (Debian: apt-get install rabbitmq-server) or point KOOP_AMQP_URL at a broker"
    fi
    say "starting RabbitMQ"
    rabbitmq-server -detached || true
    wait_port 127.0.0.1 5672 120 || die "RabbitMQ did not start; see /var/log/rabbitmq/"
  fi
  # rabbitmqctl answers only once the node has booted fully.
  for _ in $(seq 1 60); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
  # Region links to a macro-region use RabbitMQ's shovel (deploy/regions/link.py).
  rabbitmq-plugins list -e -m | grep -qx rabbitmq_shovel || rabbitmq-plugins -q enable rabbitmq_shovel \
    || die "the region links need the shovel plugin: run as root: rabbitmq-plugins enable rabbitmq_shovel"
  # Reporting's rebuild reads the event log over the stream protocol (port 5552); without the
  # plugin it falls back to AMQP, slower.
  rabbitmq-plugins list -e -m | grep -qx rabbitmq_stream || rabbitmq-plugins -q enable rabbitmq_stream \
    || die "the rebuild reads the event log over the stream plugin: run as root: rabbitmq-plugins enable rabbitmq_stream"
}

# The browser tests drive Debian's chromium through Playwright (pip `playwright`, installed
# with the project's dev dependencies); Playwright's own browser download is not used.
# chromium-l10n: its Polish resources make date fields show dd.mm.rrrr, as a Polish browser does.
ensure_chromium() {
  if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    [ -e /usr/lib/chromium/locales/pl.pak ] || apt_install chromium-l10n \
      || echo "chromium-l10n missing: date fields will show mm/dd/yyyy in screenshots" >&2
    return 0
  fi
  apt_install chromium chromium-l10n fonts-dejavu-core \
    || die "the browser tests need Chromium: run as root: apt-get install chromium chromium-l10n"
}

# The alert rules and the Prometheus config are checked and unit-tested with promtool, which
# Debian ships in its prometheus package (the server itself is not started).
ensure_promtool() {
  command -v promtool >/dev/null && return 0
  apt_install --no-install-recommends prometheus \
    || die "the observability checks need promtool: run as root: apt-get install prometheus"
}

# The AsyncAPI documents are validated with the official parser (npm @asyncapi/parser, pinned by
# tests/asyncapi/package-lock.json).
ensure_asyncapi_parser() {
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm \
    || die "the AsyncAPI check needs Node.js: run as root: apt-get install nodejs npm"
  [ -d "$KOOP_ROOT/tests/asyncapi/node_modules/@asyncapi/parser" ] && return 0
  say "installing @asyncapi/parser (npm ci in tests/asyncapi)"
  npm ci --prefix "$KOOP_ROOT/tests/asyncapi" --no-audit --no-fund --loglevel=error >/dev/null \
    || die "npm ci in tests/asyncapi failed; see above"
}

# Broker-wide bound on a message (the same as KOOP_MAX_EVENT_BYTES, see shared/settings.py): a
# larger publish is refused by the broker instead of filling a consumer's memory.
MAX_MESSAGE_BYTES=1048576

ensure_message_size_limit() {
  # Now, on the running node (idempotent: setting the same value again changes nothing)...
  rabbitmqctl -q eval "application:set_env(rabbit, max_message_size, $MAX_MESSAGE_BYTES)." >/dev/null \
    || die "could not set RabbitMQ's max_message_size: run as root or as the rabbitmq user"
  # ...and for the next start, when this machine's configuration is ours to write (a line
  # added once; an operator's own max_message_size line is left as it is).
  local conf=/etc/rabbitmq/rabbitmq.conf
  if [ -w "$conf" ] && ! grep -q '^max_message_size' "$conf"; then
    printf 'max_message_size = %s\n' "$MAX_MESSAGE_BYTES" >> "$conf"
  fi
}

ensure_all() {
  ensure_python
  ensure_postgres
  ensure_rabbitmq
  ensure_message_size_limit
  say "PostgreSQL and RabbitMQ are up"
}
