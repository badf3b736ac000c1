#!/bin/sh
# Runs once, when the database is first created: a read-only role for Grafana that can read every
# table the migrations create later (default privileges of the owner role).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'pw';
GRANT CONNECT ON DATABASE smartpark TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE smartpark IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
