# Written by mreg; sourced by the Postgres image at every start.
psql --set ON_ERROR_STOP=1 -d quay -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm'
