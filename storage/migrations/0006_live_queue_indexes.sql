-- Collectors read the live queue (open, acknowledged, assigned), while resolved and dismissed
-- alerts pile up behind it for months. Indexes over the live alerts only, in queue order, keep a
-- page read proportional to the page: the whole queue, or one kind, or one severity (the filters a
-- collector's screen offers), each walked in priority order and stopped at the page size.
CREATE INDEX alerts_live_priority_idx ON alerts (priority DESC, alert_id DESC)
    WHERE status IN ('open', 'acknowledged', 'assigned');
CREATE INDEX alerts_live_kind_idx ON alerts (kind, priority DESC, alert_id DESC)
    WHERE status IN ('open', 'acknowledged', 'assigned');
CREATE INDEX alerts_live_severity_idx ON alerts (severity, priority DESC, alert_id DESC)
    WHERE status IN ('open', 'acknowledged', 'assigned');
