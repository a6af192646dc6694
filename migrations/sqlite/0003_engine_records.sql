-- Element fingerprints, cached pages and plugin swaps, as in PostgreSQL.

CREATE TABLE IF NOT EXISTS element_fingerprints (
    key TEXT PRIMARY KEY,
    element TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS page_cache (
    url TEXT PRIMARY KEY,
    html TEXT NOT NULL,
    saved_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS plugin_swaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin_id TEXT NOT NULL,
    old_version TEXT,
    old_sha256 TEXT,
    new_version TEXT,
    new_sha256 TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_plugin_swaps_plugin ON plugin_swaps(plugin_id, at DESC);
