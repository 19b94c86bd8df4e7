-- A loan belongs to a portfolio (a lender's product or book); the detectors' thresholds can be
-- set per portfolio (LIENWATCH_THRESHOLDS_FILE). Unset: the lender's default thresholds.
ALTER TABLE loans ADD COLUMN portfolio text
    CHECK (portfolio IS NULL OR (portfolio = btrim(portfolio) AND portfolio <> '' AND length(portfolio) <= 100));
