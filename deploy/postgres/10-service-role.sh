#!/bin/sh
# First start of the database: the services' login role, a member of lienwatch_service (the
# role migration 0009 grants the working tables to). POSTGRES_USER owns the schema.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$LIENWATCH_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE lienwatch_service NOLOGIN;
CREATE ROLE lienwatch_app LOGIN PASSWORD :'app_password' IN ROLE lienwatch_service;
SQL
