-- Core registry: vehicles, devices, loans and their legal holds, fences.

CREATE TABLE vehicles (
    vin          text PRIMARY KEY,
    plate        text,
    make_model   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    device_id            text PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('wired', 'wireless')),
    vin                  text REFERENCES vehicles (vin),
    -- Expected cadence in seconds; the offline detector judges silence against these.
    moving_interval_s    integer CHECK (moving_interval_s > 0),
    parked_interval_s    integer CHECK (parked_interval_s > 0),
    scheduled_interval_s integer CHECK (scheduled_interval_s > 0),
    registered_at        timestamptz NOT NULL DEFAULT now(),
    active               boolean NOT NULL DEFAULT true
);
CREATE INDEX devices_vin_idx ON devices (vin);

CREATE TABLE loans (
    loan_id              text PRIMARY KEY,
    vin                  text NOT NULL REFERENCES vehicles (vin),
    borrower_name        text,
    status               text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'settled', 'repossessed', 'charged_off')),
    days_past_due        integer NOT NULL DEFAULT 0 CHECK (days_past_due >= 0),
    outstanding_balance  numeric(14, 2) NOT NULL DEFAULT 0 CHECK (outstanding_balance >= 0),
    currency             text NOT NULL DEFAULT 'CNY',
    home_lat             double precision CHECK (home_lat BETWEEN -90 AND 90),
    home_lon             double precision CHECK (home_lon BETWEEN -180 AND 180),
    bound_region         text,
    assigned_collector   text,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX loans_vin_idx ON loans (vin);
CREATE INDEX loans_collector_idx ON loans (assigned_collector);

CREATE TABLE loan_holds (
    hold_id      bigserial PRIMARY KEY,
    loan_id      text NOT NULL REFERENCES loans (loan_id),
    kind         text NOT NULL
                 CHECK (kind IN ('bankruptcy', 'servicemember', 'dispute', 'promise_to_pay')),
    until        date,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz
);
CREATE INDEX loan_holds_loan_idx ON loan_holds (loan_id) WHERE released_at IS NULL;

CREATE TABLE fences (
    fence_id      bigserial PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('risk_zone', 'allowed_region', 'home')),
    subtype       text,
    -- GeoJSON geometry in WGS-84; a circle is a Point with radius_m.
    geometry      jsonb NOT NULL,
    radius_m      double precision CHECK (radius_m > 0),
    is_global     boolean NOT NULL DEFAULT true,
    active_hours  text,
    dwell_s       integer CHECK (dwell_s >= 0),
    source_crs    text NOT NULL DEFAULT 'wgs84' CHECK (source_crs IN ('wgs84', 'gcj02', 'bd09')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fence_loans (
    fence_id  bigint NOT NULL REFERENCES fences (fence_id) ON DELETE CASCADE,
    loan_id   text NOT NULL REFERENCES loans (loan_id),
    PRIMARY KEY (fence_id, loan_id)
);
