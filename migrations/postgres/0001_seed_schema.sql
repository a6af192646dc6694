-- The schema of the self-healing design document, as written: sessions,
-- error patterns, the recovery history with its three indexes, the success
-- rate view, the per-row stats trigger and the six default patterns.

CREATE TABLE IF NOT EXISTS browser_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS error_patterns (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    pattern_name TEXT UNIQUE,
    error_signature TEXT,  -- Regex pattern
    description TEXT,
    recovery_strategies JSONB,  -- Array of strategies
    success_rate DECIMAL(5,2) DEFAULT 0,
    total_attempts INTEGER DEFAULT 0,
    successful_attempts INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT now(),
    updated_at TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE IF NOT EXISTS error_recovery_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id UUID REFERENCES browser_sessions(id),
    error_pattern_id UUID REFERENCES error_patterns(id),
    error_type TEXT,
    error_message TEXT,
    strategy_used TEXT,
    success BOOLEAN,
    retry_count INTEGER,
    context JSONB,
    created_at TIMESTAMPTZ DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_error_recovery_session ON error_recovery_history(session_id);
CREATE INDEX IF NOT EXISTS idx_error_recovery_pattern ON error_recovery_history(error_pattern_id);
CREATE INDEX IF NOT EXISTS idx_error_recovery_created ON error_recovery_history(created_at DESC);

CREATE OR REPLACE VIEW recovery_success_rates AS
SELECT
    error_type,
    strategy_used,
    COUNT(*) FILTER (WHERE success = true) * 100.0 / COUNT(*) as success_rate,
    COUNT(*) as total_attempts
FROM error_recovery_history
GROUP BY error_type, strategy_used;

-- The design's trigger: one update of the pattern's counters per row.
CREATE OR REPLACE FUNCTION update_error_pattern_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.error_pattern_id IS NOT NULL THEN
        UPDATE error_patterns SET
            total_attempts = total_attempts + 1,
            successful_attempts = successful_attempts + CASE WHEN NEW.success THEN 1 ELSE 0 END,
            success_rate = (successful_attempts + CASE WHEN NEW.success THEN 1 ELSE 0 END) * 100.0 / (total_attempts + 1),
            updated_at = now()
        WHERE id = NEW.error_pattern_id;
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS update_pattern_stats_trigger ON error_recovery_history;
CREATE TRIGGER update_pattern_stats_trigger
AFTER INSERT ON error_recovery_history
FOR EACH ROW
EXECUTE FUNCTION update_error_pattern_stats();

-- The six default patterns; success_rate starts at the expected rate and
-- the trigger replaces it with the observed one.
INSERT INTO error_patterns (id, pattern_name, error_signature, description, recovery_strategies, success_rate) VALUES
('00000000-0000-4000-8000-000000000001', 'element_not_found', 'ElementNotFoundError|NoSuchElementException|Element .* not found', 'The target element is not on the page (yet).', '[{"name":"wait_longer","timeout_ms":5000},{"name":"scroll_into_view"},{"name":"use_vision_fallback"}]', 85.00),
('00000000-0000-4000-8000-000000000002', 'timeout', 'TimeoutError|Timeout.*exceeded', 'An action or a page load took longer than allowed.', '[{"name":"retry_with_longer_timeout","multiplier":2},{"name":"check_network_idle"},{"name":"reload_page"}]', 70.00),
('00000000-0000-4000-8000-000000000003', 'security_challenge', 'Cloudflare|CAPTCHA|reCAPTCHA|Security check', 'The site shows a bot check that needs a person.', '[{"name":"wait_for_manual_intervention","timeout_ms":60000},{"name":"use_different_approach"}]', 30.00),
('00000000-0000-4000-8000-000000000004', 'page_load_failure', 'ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED', 'The page could not be loaded.', '[{"name":"retry_navigation","max_retries":3},{"name":"check_dns"},{"name":"use_cached_version"}]', 60.00),
('00000000-0000-4000-8000-000000000005', 'action_execution_failure', 'Click failed|Type failed|Action .* failed', 'The action reached the element but did not take effect.', '[{"name":"wait_and_retry","delay_ms":1000},{"name":"use_alternative_selector"},{"name":"refresh_dom_state"},{"name":"dismiss_overlay"}]', 75.00),
('00000000-0000-4000-8000-000000000006', 'network_error', 'ERR_INTERNET_DISCONNECTED|Network error', 'The browser lost its network connection.', '[{"name":"wait_for_reconnection","timeout_ms":30000},{"name":"retry_request","backoff":"exponential","initial_delay_ms":500,"multiplier":2,"max_retries":3}]', 50.00)
ON CONFLICT (pattern_name) DO NOTHING;
