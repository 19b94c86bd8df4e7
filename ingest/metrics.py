"""Prometheus metrics of the ingestor, on a registry the composition root owns."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter("lienwatch_ingest_messages_received", "MQTT messages received", registry=r)
        self.accepted = Counter("lienwatch_ingest_positions_accepted", "Positions newly stored", registry=r)
        self.duplicates = Counter(
            "lienwatch_ingest_positions_duplicate",
            "Valid positions already stored (same device, fix time)",
            registry=r,
        )
        self.rejected = Counter(
            "lienwatch_ingest_rejected", "Messages or fixes quarantined, by reason", ["reason"], registry=r
        )
        self.batch_size = Histogram(
            "lienwatch_ingest_batch_messages",
            "Messages per committed batch",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=r,
        )
        self.commit_seconds = Histogram(
            "lienwatch_ingest_commit_seconds",
            "Store + commit time of a batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.queue_depth = Gauge("lienwatch_ingest_queue_depth", "Messages waiting in the inbox", registry=r)
        self.lag_seconds = Histogram(
            "lienwatch_ingest_lag_seconds",
            "Receive time minus fix time of accepted positions",
            buckets=(0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400),
            registry=r,
        )
        self.db_retries = Counter(
            "lienwatch_ingest_db_retries", "Batch store attempts that failed and were retried", registry=r
        )
