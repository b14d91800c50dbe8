#!/bin/sh
# One-shot (compose service `temporal-admin-tools`, image temporalio/admin-tools): creates Temporal's two
# PostgreSQL databases if missing and brings their schemas to the version this admin-tools image ships
# (/etc/temporal/schema). Safe to re-run: `create` accepts an existing database, `setup-schema -v 0.0`
# only creates the version tables if missing, `update-schema` applies only the versions not yet applied.
# The steps are Temporal's own (temporalio/samples-server compose/scripts/setup-postgres.sh).
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (read by temporal-sql-tool)}"
DB_PORT=${DB_PORT:-5432}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
tries=0
until nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "PostgreSQL unreachable" >&2; exit 1; }
  sleep 2
done

sql_tool() {
  db=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" "$@"
}

# database name, then its schema directory under $SCHEMA_DIR
for store in temporal:temporal temporal_visibility:visibility; do
  db=${store%%:*}
  dir=$SCHEMA_DIR/${store#*:}/versioned
  echo "schema of ${db} from ${dir}"
  sql_tool "$db" create
  sql_tool "$db" setup-schema -v 0.0
  sql_tool "$db" update-schema -d "$dir"
done
echo "Temporal schemas up to date"
