-- Partitioned ingest (lienwatch router / worker): one row per stream partition.
-- epoch is the fencing token: a worker taking a partition increments it, and every batch it
-- commits checks it, so a worker that lost the partition (paused past its lease) can no longer
-- commit. last_seq is the stream sequence of the last message committed, in the same
-- transaction as the positions and alerts it produced: the next owner resumes right after it.
-- watermark is the partition's event-time clock at that point (simulation and replay sweeps).
CREATE TABLE IF NOT EXISTS stream_partitions (
    partition   integer PRIMARY KEY CHECK (partition >= 0),
    owner       text,
    epoch       bigint NOT NULL DEFAULT 0,
    last_seq    bigint NOT NULL DEFAULT 0,
    watermark   timestamptz,
    claimed_at  timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
