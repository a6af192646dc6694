-- The design document's schema in SQLite: UUIDs and timestamps are TEXT
-- (timestamps RFC 3339 in UTC, written by the engine), JSON is TEXT,
-- booleans are 0/1. The row trigger keeps error_patterns counters; SQLite
-- has one writer at a time, so a per-row update costs no contention here.

CREATE TABLE IF NOT EXISTS browser_sessions (
    id TEXT PRIMARY KEY,
    name TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    ended_at TEXT
);

CREATE TABLE IF NOT EXISTS error_patterns (
    id TEXT PRIMARY KEY,
    pattern_name TEXT UNIQUE,
    error_signature TEXT,
    description TEXT,
    recovery_strategies TEXT,
    success_rate REAL DEFAULT 0,
    total_attempts INTEGER DEFAULT 0,
    successful_attempts INTEGER DEFAULT 0,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS error_recovery_history (
    id TEXT PRIMARY KEY,
    session_id TEXT REFERENCES browser_sessions(id),
    error_pattern_id TEXT REFERENCES error_patterns(id),
    error_type TEXT,
    error_message TEXT,
    strategy_used TEXT,
    success INTEGER,
    retry_count INTEGER,
    context TEXT,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX IF NOT EXISTS idx_error_recovery_session ON error_recovery_history(session_id);
CREATE INDEX IF NOT EXISTS idx_error_recovery_pattern ON error_recovery_history(error_pattern_id);
CREATE INDEX IF NOT EXISTS idx_error_recovery_created ON error_recovery_history(created_at DESC);

CREATE VIEW IF NOT EXISTS recovery_success_rates AS
SELECT
    error_type,
    strategy_used,
    COUNT(*) FILTER (WHERE success = 1) * 100.0 / COUNT(*) AS success_rate,
    COUNT(*) AS total_attempts
FROM error_recovery_history
GROUP BY error_type, strategy_used;

CREATE TRIGGER IF NOT EXISTS update_pattern_stats_trigger
AFTER INSERT ON error_recovery_history
WHEN NEW.error_pattern_id IS NOT NULL
BEGIN
    UPDATE error_patterns SET
        total_attempts = total_attempts + 1,
        successful_attempts = successful_attempts + (NEW.success = 1),
        success_rate = round((successful_attempts + (NEW.success = 1)) * 100.0 / (total_attempts + 1), 2),
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.error_pattern_id;
END;

INSERT INTO error_patterns (id, pattern_name, error_signature, description, recovery_strategies, success_rate) VALUES
('00000000-0000-4000-8000-000000000001', 'element_not_found', 'ElementNotFoundError|NoSuchElementException|Element .* not found', 'The target element is not on the page (yet).', '[{"name":"wait_longer","timeout_ms":5000},{"name":"scroll_into_view"},{"name":"use_vision_fallback"}]', 85.00),
('00000000-0000-4000-8000-000000000002', 'timeout', 'TimeoutError|Timeout.*exceeded', 'An action or a page load took longer than allowed.', '[{"name":"retry_with_longer_timeout","multiplier":2},{"name":"check_network_idle"},{"name":"reload_page"}]', 70.00),
('00000000-0000-4000-8000-000000000003', 'security_challenge', 'Cloudflare|CAPTCHA|reCAPTCHA|Security check', 'The site shows a bot check that needs a person.', '[{"name":"wait_for_manual_intervention","timeout_ms":60000},{"name":"use_different_approach"}]', 30.00),
('00000000-0000-4000-8000-000000000004', 'page_load_failure', 'ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED', 'The page could not be loaded.', '[{"name":"retry_navigation","max_retries":3},{"name":"check_dns"},{"name":"use_cached_version"}]', 60.00),
('00000000-0000-4000-8000-000000000005', 'action_execution_failure', 'Click failed|Type failed|Action .* failed', 'The action reached the element but did not take effect.', '[{"name":"wait_and_retry","delay_ms":1000},{"name":"use_alternative_selector"},{"name":"refresh_dom_state"},{"name":"dismiss_overlay"}]', 75.00),
('00000000-0000-4000-8000-000000000006', 'network_error', 'ERR_INTERNET_DISCONNECTED|Network error', 'The browser lost its network connection.', '[{"name":"wait_for_reconnection","timeout_ms":30000},{"name":"retry_request","backoff":"exponential","initial_delay_ms":500,"multiplier":2,"max_retries":3}]', 50.00)
ON CONFLICT (pattern_name) DO NOTHING;
