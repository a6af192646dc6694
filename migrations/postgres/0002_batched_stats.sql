-- Batched statistics. The per-row trigger updates one hot error_patterns
-- row per attempt, which serialises every writer; this replaces it with a
-- statement-level trigger over the inserted rows (a transition table) that
-- updates each pattern once per batch, and keeps recovery_stats, a counter
-- table answering what recovery_success_rates computes by scanning history.
-- Host and action kind are recorded so that selection can learn per context.

ALTER TABLE error_recovery_history ADD COLUMN IF NOT EXISTS host TEXT;
ALTER TABLE error_recovery_history ADD COLUMN IF NOT EXISTS action_kind TEXT;

-- '' stands for NULL so that the key can be a primary key.
CREATE TABLE IF NOT EXISTS recovery_stats (
    error_type TEXT NOT NULL,
    strategy_used TEXT NOT NULL,
    host TEXT NOT NULL,
    action_kind TEXT NOT NULL,
    successes BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (error_type, strategy_used, host, action_kind)
);

DROP TRIGGER IF EXISTS update_pattern_stats_trigger ON error_recovery_history;

CREATE OR REPLACE FUNCTION update_error_pattern_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Lock the patterns in id order first, so that concurrent batches
    -- touching several patterns cannot deadlock. NO KEY UPDATE is what the
    -- UPDATE below takes anyway; it does not conflict with the KEY SHARE
    -- locks the foreign-key checks of other batches hold.
    PERFORM 1 FROM error_patterns
    WHERE id IN (SELECT DISTINCT error_pattern_id FROM new_rows WHERE error_pattern_id IS NOT NULL)
    ORDER BY id FOR NO KEY UPDATE;

    UPDATE error_patterns p SET
        total_attempts = p.total_attempts + n.total,
        successful_attempts = p.successful_attempts + n.ok,
        success_rate = (p.successful_attempts + n.ok) * 100.0 / (p.total_attempts + n.total),
        updated_at = now()
    FROM (SELECT error_pattern_id, count(*) AS total, count(*) FILTER (WHERE success) AS ok
          FROM new_rows WHERE error_pattern_id IS NOT NULL
          GROUP BY error_pattern_id) n
    WHERE p.id = n.error_pattern_id;

    INSERT INTO recovery_stats AS s (error_type, strategy_used, host, action_kind, successes, total)
    SELECT coalesce(error_type, ''), coalesce(strategy_used, ''), coalesce(host, ''), coalesce(action_kind, ''),
           count(*) FILTER (WHERE success), count(*)
    FROM new_rows
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (error_type, strategy_used, host, action_kind) DO UPDATE
        SET successes = s.successes + EXCLUDED.successes, total = s.total + EXCLUDED.total;
    RETURN NULL;
END $$;

CREATE TRIGGER update_pattern_stats_trigger
AFTER INSERT ON error_recovery_history
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT
EXECUTE FUNCTION update_error_pattern_stats();

-- History written before this migration.
INSERT INTO recovery_stats (error_type, strategy_used, host, action_kind, successes, total)
SELECT coalesce(error_type, ''), coalesce(strategy_used, ''), coalesce(host, ''), coalesce(action_kind, ''),
       count(*) FILTER (WHERE success), count(*)
FROM error_recovery_history
GROUP BY 1, 2, 3, 4
ON CONFLICT DO NOTHING;
