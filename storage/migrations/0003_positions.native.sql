-- Positions on plain PostgreSQL: declarative range partitions, one a day.
-- storage/partitions.py creates days ahead and drops expired ones; the scheduler calls it.

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
    -- Same device, same fix time: stored once.
    PRIMARY KEY (device_id, ts)
) PARTITION BY RANGE (ts);
