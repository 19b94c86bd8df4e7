-- Two database roles. The migrations run as the owner of the schema (whoever runs
-- `lienwatch db migrate`, LIENWATCH_OWNER_DATABASE_URL); the services (ingest, api, scheduler)
-- connect as a login role that is a member of lienwatch_service. That role reads and writes the
-- tables it works with but owns none of them, so it cannot ALTER TABLE audit_log DISABLE TRIGGER,
-- drop the append-only trigger or its function; and on audit_log it may only INSERT and SELECT
-- (SELECT: INSERT … RETURNING and the audit endpoint read it), never UPDATE, DELETE or TRUNCATE.
-- An operator grants it to the services' login role: CREATE ROLE lienwatch_api LOGIN PASSWORD '…'
-- IN ROLE lienwatch_service.

DO $$
BEGIN
    CREATE ROLE lienwatch_service NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- roles are cluster-wide: another database of the cluster (or a concurrent run) made it
END
$$;

DO $$
DECLARE
    here text := current_schema();
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO lienwatch_service', here);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO lienwatch_service', here);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO lienwatch_service', here);
    -- Tables and sequences later migrations (and the partition function below) create.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO lienwatch_service', here);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO lienwatch_service', here);
END
$$;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM lienwatch_service;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Native layout: the ingestor creates a missing day's partition on demand and the scheduler drops
-- expired ones, which takes ownership of positions. These run as their owner (SECURITY DEFINER,
-- with the search path fixed at creation) and do exactly that, nothing else.
CREATE FUNCTION positions_create_day(day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                   'positions_p' || to_char(day, 'YYYYMMDD'),
                   day::timestamp AT TIME ZONE 'UTC',
                   (day + 1)::timestamp AT TIME ZONE 'UTC');
END
$$;

CREATE FUNCTION positions_drop_day(day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I', 'positions_p' || to_char(day, 'YYYYMMDD'));
END
$$;

REVOKE ALL ON FUNCTION positions_create_day(date), positions_drop_day(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION positions_create_day(date), positions_drop_day(date) TO lienwatch_service;
