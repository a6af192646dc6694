-- The counter table behind success rates and context columns, as in the
-- PostgreSQL migration of the same number. Every insert happens inside the
-- engine's batch transactions, so a row trigger is enough here.

ALTER TABLE error_recovery_history ADD COLUMN host TEXT;
ALTER TABLE error_recovery_history ADD COLUMN action_kind TEXT;

CREATE TABLE IF NOT EXISTS recovery_stats (
    error_type TEXT NOT NULL,
    strategy_used TEXT NOT NULL,
    host TEXT NOT NULL,
    action_kind TEXT NOT NULL,
    successes INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (error_type, strategy_used, host, action_kind)
);

CREATE TRIGGER IF NOT EXISTS recovery_stats_trigger
AFTER INSERT ON error_recovery_history
BEGIN
    INSERT INTO recovery_stats (error_type, strategy_used, host, action_kind, successes, total)
    VALUES (coalesce(NEW.error_type, ''), coalesce(NEW.strategy_used, ''), coalesce(NEW.host, ''),
            coalesce(NEW.action_kind, ''), NEW.success = 1, 1)
    ON CONFLICT (error_type, strategy_used, host, action_kind) DO UPDATE
        SET successes = successes + excluded.successes, total = total + 1;
END;

INSERT OR IGNORE INTO recovery_stats (error_type, strategy_used, host, action_kind, successes, total)
SELECT coalesce(error_type, ''), coalesce(strategy_used, ''), coalesce(host, ''), coalesce(action_kind, ''),
       COUNT(*) FILTER (WHERE success = 1), COUNT(*)
FROM error_recovery_history
GROUP BY 1, 2, 3, 4;
