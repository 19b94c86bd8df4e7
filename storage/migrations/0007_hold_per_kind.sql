-- A loan carries at most one open legal hold of each kind: placing the same hold three times
-- recorded three holds, and releasing one left the loan held by the others. Duplicates already
-- open are released, the oldest of each kind kept, before the index makes it a rule.

UPDATE loan_holds h
   SET released_at = now(),
       note = coalesce(h.note || ' ', '') || '[released: duplicate of hold ' || k.keep || ']'
  FROM (SELECT loan_id, kind, min(hold_id) AS keep
          FROM loan_holds
         WHERE released_at IS NULL
         GROUP BY loan_id, kind
        HAVING count(*) > 1) k
 WHERE h.loan_id = k.loan_id AND h.kind = k.kind AND h.released_at IS NULL AND h.hold_id <> k.keep;

CREATE UNIQUE INDEX loan_holds_one_open_idx ON loan_holds (loan_id, kind) WHERE released_at IS NULL;
