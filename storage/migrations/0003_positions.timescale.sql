-- Positions on TimescaleDB: a hypertable of one-day chunks, compressed per device, and a
-- five-minute continuous aggregate for downsampled tracks. Policies (compression, retention,
-- aggregate refresh) take their intervals from settings: storage/maintenance.py applies them.

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE positions (
    device_id    text NOT NULL,
    ts           timestamptz NOT NULL,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    accuracy_m   real,
    speed_kmh    real,
    heading      real,
    ignition     boolean,
    source       text NOT NULL DEFAULT 'gps',
    battery_pct  real,
    power_v      real,
    alarms       text[],
    seq          bigint,
    extra        jsonb,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (device_id, ts)
);

SELECT create_hypertable('positions', by_range('ts', INTERVAL '1 day'));

ALTER TABLE positions SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'ts DESC'
);

CREATE MATERIALIZED VIEW positions_5min
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT device_id,
       time_bucket(INTERVAL '5 minutes', ts) AS bucket,
       last(lat, ts)   AS lat,
       last(lon, ts)   AS lon,
       count(*)        AS fixes,
       max(speed_kmh)  AS max_speed_kmh
FROM positions
GROUP BY device_id, bucket
WITH NO DATA;
