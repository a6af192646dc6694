-- What the engine keeps besides recovery history: element fingerprints per
-- workflow step, cached pages for use_cached_version, and plugin swaps.

CREATE TABLE IF NOT EXISTS element_fingerprints (
    key TEXT PRIMARY KEY,
    element JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS page_cache (
    url TEXT PRIMARY KEY,
    html TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS plugin_swaps (
    id BIGSERIAL PRIMARY KEY,
    plugin_id TEXT NOT NULL,
    old_version TEXT,
    old_sha256 TEXT,
    new_version TEXT,
    new_sha256 TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_plugin_swaps_plugin ON plugin_swaps(plugin_id, at DESC);
