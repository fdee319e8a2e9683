#!/bin/sh
# Run by the postgres image once, when it initializes an empty data volume
# (it executes every file in /docker-entrypoint-initdb.d). It creates the
# stack's two login roles, neither of them a superuser:
#
#   temporal     may create databases: the temporal-schema service creates
#                temporal and temporal_visibility with it and owns them;
#   orgaccounts  owns the orgaccounts database and nothing else.
#
# Their passwords come from the postgres service's environment
# (TEMPORAL_DB_PASSWORD, ORGACCOUNTS_DB_PASSWORD). To change one later, use
# ALTER ROLE: this script does not run again on an initialized volume.
set -e

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
	--set temporal_password="$TEMPORAL_DB_PASSWORD" \
	--set orgaccounts_password="$ORGACCOUNTS_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE orgaccounts LOGIN PASSWORD :'orgaccounts_password';
CREATE DATABASE orgaccounts OWNER orgaccounts;
REVOKE ALL ON DATABASE orgaccounts FROM PUBLIC;
SQL
