// Package sqlite is the default history store: one SQLite file (pure Go,
// modernc.org/sqlite) under the user's state directory, no setup needed.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/migrations"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DefaultPath is where the store lives unless told otherwise:
// $XDG_STATE_HOME/selfheal/history.db, else ~/.local/state/selfheal/history.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "selfheal", "history.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("sqlite: no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "selfheal", "history.db"), nil
}

// Store is the SQLite history store.
type Store struct {
	db   *sql.DB
	path string
}

// timeFormat is how times are stored: sortable text in UTC.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

func ts(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Open opens (creating if needed) the database file at path; "" means
// DefaultPath. It does not migrate: call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this keeps
	// ":memory:" one database.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database for tests and tools.
func (s *Store) DB() *sql.DB { return s.db }

// Migrate applies pending migrations.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	return s.MigrateTo(ctx, migrations.Latest(migrations.SQLite))
}

// MigrateTo applies migrations up to version target.
func (s *Store) MigrateTo(ctx context.Context, target int) (int, error) {
	ms, err := migrations.For(migrations.SQLite)
	if err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range ms {
		if m.Version > target {
			break
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, ts(time.Now()))
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("sqlite: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return s.Version(ctx)
}

// Version returns the applied schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if isNoTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("sqlite: version: %w", err)
	}
	return int(v.Int64), nil
}

func isNoTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// UpsertPatterns inserts or updates patterns, keeping their counters.
func (s *Store) UpsertPatterns(ctx context.Context, ps []history.PatternRecord) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			strategies := string(p.Strategies)
			if strategies == "" {
				strategies = "[]"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO error_patterns
				(id, pattern_name, error_signature, description, recovery_strategies, success_rate, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (pattern_name) DO UPDATE SET
					error_signature = excluded.error_signature,
					description = excluded.description,
					recovery_strategies = excluded.recovery_strategies,
					success_rate = CASE WHEN total_attempts = 0 THEN excluded.success_rate ELSE success_rate END,
					updated_at = excluded.updated_at`,
				history.NewID(), p.Name, p.Signature, p.Description, strategies, round2(p.ExpectedRate*100), ts(time.Now()), ts(time.Now()))
			if err != nil {
				return fmt.Errorf("pattern %q: %w", p.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: upsert patterns: %w", err)
	}
	return nil
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Patterns returns the stored patterns, by name.
func (s *Store) Patterns(ctx context.Context) ([]history.PatternRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pattern_name, coalesce(error_signature, ''), coalesce(description, ''),
			coalesce(recovery_strategies, '[]'), coalesce(success_rate, 0)
		FROM error_patterns ORDER BY pattern_name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: patterns: %w", err)
	}
	defer rows.Close()
	var out []history.PatternRecord
	for rows.Next() {
		var p history.PatternRecord
		var strategies string
		if err := rows.Scan(&p.Name, &p.Signature, &p.Description, &strategies, &p.ExpectedRate); err != nil {
			return nil, fmt.Errorf("sqlite: patterns: %w", err)
		}
		p.Strategies = json.RawMessage(strategies)
		p.ExpectedRate /= 100
		out = append(out, p)
	}
	return out, rows.Err()
}

// PatternStats returns every pattern's counters, by name.
func (s *Store) PatternStats(ctx context.Context) ([]history.PatternStats, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, pattern_name, coalesce(success_rate, 0), coalesce(total_attempts, 0), coalesce(successful_attempts, 0)
		FROM error_patterns ORDER BY pattern_name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pattern stats: %w", err)
	}
	defer rows.Close()
	var out []history.PatternStats
	for rows.Next() {
		var p history.PatternStats
		if err := rows.Scan(&p.ID, &p.Name, &p.SuccessRate, &p.TotalAttempts, &p.SuccessfulAttempts); err != nil {
			return nil, fmt.Errorf("sqlite: pattern stats: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CreateSession stores a session; an empty ID is generated.
func (s *Store) CreateSession(ctx context.Context, sess history.Session) (history.Session, error) {
	if sess.ID == "" {
		sess.ID = history.NewID()
	}
	if !history.IsUUID(sess.ID) {
		return sess, fmt.Errorf("%w: session id %q is not a UUID", history.ErrBadRecord, sess.ID)
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = time.Now()
	}
	sess.CreatedAt = sess.CreatedAt.UTC().Truncate(time.Microsecond)
	meta := string(sess.Metadata)
	if meta == "" {
		meta = "{}"
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO browser_sessions (id, name, metadata, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, metadata = excluded.metadata`, sess.ID, sess.Name, meta, ts(sess.CreatedAt))
	if err != nil {
		return sess, fmt.Errorf("sqlite: create session: %w", err)
	}
	return s.Session(ctx, sess.ID)
}

// Session returns a session.
func (s *Store) Session(ctx context.Context, id string) (history.Session, error) {
	var sess history.Session
	var name sql.NullString
	var meta, created string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, metadata, created_at FROM browser_sessions WHERE id = ?`, id).Scan(&sess.ID, &name, &meta, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return sess, fmt.Errorf("session %s: %w", id, history.ErrNotFound)
	}
	if err != nil {
		return sess, fmt.Errorf("sqlite: session %s: %w", id, err)
	}
	sess.Name, sess.Metadata, sess.CreatedAt = name.String, json.RawMessage(meta), parseTS(created)
	return sess, nil
}

// AppendAttempts stores a batch in one transaction; known IDs are skipped.
func (s *Store) AppendAttempts(ctx context.Context, as []history.Attempt) (int, error) {
	for i := range as {
		if err := as[i].Validate(); err != nil {
			return 0, err
		}
	}
	inserted := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sessStmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO browser_sessions (id, metadata, created_at) VALUES (?, '{}', ?)`)
		if err != nil {
			return err
		}
		defer sessStmt.Close()
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO error_recovery_history
			(id, session_id, error_pattern_id, error_type, error_message, strategy_used, success, retry_count, context, created_at, host, action_kind)
			VALUES (?, ?, coalesce(?, (SELECT id FROM error_patterns WHERE pattern_name = ?)), ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		seen := map[string]bool{}
		for _, a := range as {
			if a.SessionID != "" && !seen[a.SessionID] {
				seen[a.SessionID] = true
				if _, err := sessStmt.ExecContext(ctx, a.SessionID, ts(a.CreatedAt)); err != nil {
					return err
				}
			}
			res, err := stmt.ExecContext(ctx, a.ID, nullStr(a.SessionID), nullStr(a.ErrorPatternID), a.ErrorType, a.ErrorType,
				a.ErrorMessage, nullStr(a.Strategy), a.Success, a.RetryCount, nullJSON(a.Context), ts(a.CreatedAt),
				nullStr(a.Host), nullStr(a.ActionKind))
			if err != nil {
				return fmt.Errorf("attempt %s: %w", a.ID, err)
			}
			n, _ := res.RowsAffected()
			inserted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append attempts: %w", err)
	}
	return inserted, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// SessionHistory returns a session's attempts, oldest first.
func (s *Store) SessionHistory(ctx context.Context, sessionID string) ([]history.Attempt, error) {
	if !history.IsUUID(sessionID) {
		return nil, fmt.Errorf("%w: session id %q is not a UUID", history.ErrBadRecord, sessionID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, coalesce(session_id, ''), coalesce(error_pattern_id, ''), coalesce(error_type, ''),
			coalesce(error_message, ''), coalesce(strategy_used, ''), coalesce(success, 0), coalesce(retry_count, 0),
			coalesce(context, ''), created_at, coalesce(host, ''), coalesce(action_kind, '')
		FROM error_recovery_history WHERE session_id = ? ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: session history: %w", err)
	}
	defer rows.Close()
	var out []history.Attempt
	for rows.Next() {
		var a history.Attempt
		var ctxJSON, created string
		if err := rows.Scan(&a.ID, &a.SessionID, &a.ErrorPatternID, &a.ErrorType, &a.ErrorMessage, &a.Strategy, &a.Success,
			&a.RetryCount, &ctxJSON, &created, &a.Host, &a.ActionKind); err != nil {
			return nil, fmt.Errorf("sqlite: session history: %w", err)
		}
		if ctxJSON != "" {
			a.Context = json.RawMessage(ctxJSON)
		}
		a.CreatedAt = parseTS(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SuccessRates returns rates from the counter table, or the view.
func (s *Store) SuccessRates(ctx context.Context, f history.RateFilter) ([]history.SuccessRate, error) {
	var q string
	var args []any
	if f.FromView {
		q = `SELECT coalesce(error_type, ''), coalesce(strategy_used, ''), success_rate, total_attempts
			FROM recovery_success_rates
			WHERE (?1 = '' OR error_type = ?1) AND (?2 = '' OR strategy_used = ?2)
			ORDER BY success_rate DESC, total_attempts DESC, 1, 2`
		args = []any{f.ErrorType, f.Strategy}
	} else {
		q = `SELECT error_type, strategy_used, sum(successes) * 100.0 / sum(total), sum(total)
			FROM recovery_stats
			WHERE (?1 = '' OR error_type = ?1) AND (?2 = '' OR strategy_used = ?2)
				AND (?3 = '' OR host = ?3) AND (?4 = '' OR action_kind = ?4)
			GROUP BY error_type, strategy_used
			ORDER BY 3 DESC, 4 DESC, 1, 2`
		args = []any{f.ErrorType, f.Strategy, f.Host, f.ActionKind}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: success rates: %w", err)
	}
	defer rows.Close()
	var out []history.SuccessRate
	for rows.Next() {
		var r history.SuccessRate
		if err := rows.Scan(&r.ErrorType, &r.Strategy, &r.SuccessRate, &r.TotalAttempts); err != nil {
			return nil, fmt.Errorf("sqlite: success rates: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StrategyCounts returns every counter cell.
func (s *Store) StrategyCounts(ctx context.Context) ([]history.StrategyCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT error_type, strategy_used, host, action_kind, successes, total
		FROM recovery_stats ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: strategy counts: %w", err)
	}
	defer rows.Close()
	var out []history.StrategyCount
	for rows.Next() {
		var c history.StrategyCount
		if err := rows.Scan(&c.ErrorType, &c.Strategy, &c.Host, &c.ActionKind, &c.Successes, &c.Total); err != nil {
			return nil, fmt.Errorf("sqlite: strategy counts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SaveFingerprint stores the element record of a workflow step.
func (s *Store) SaveFingerprint(ctx context.Context, key string, el abi.Element) error {
	b, err := json.Marshal(el)
	if err != nil {
		return fmt.Errorf("sqlite: fingerprint %q: %w", key, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO element_fingerprints (key, element, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET element = excluded.element, updated_at = excluded.updated_at`, key, string(b), ts(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: fingerprint %q: %w", key, err)
	}
	return nil
}

// Fingerprint returns a stored element record.
func (s *Store) Fingerprint(ctx context.Context, key string) (abi.Element, error) {
	var el abi.Element
	var b string
	err := s.db.QueryRowContext(ctx, `SELECT element FROM element_fingerprints WHERE key = ?`, key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return el, fmt.Errorf("fingerprint %q: %w", key, history.ErrNotFound)
	}
	if err != nil {
		return el, fmt.Errorf("sqlite: fingerprint %q: %w", key, err)
	}
	if err := json.Unmarshal([]byte(b), &el); err != nil {
		return el, fmt.Errorf("sqlite: fingerprint %q: %w", key, err)
	}
	return el, nil
}

// SavePage caches a page's HTML.
func (s *Store) SavePage(ctx context.Context, pageURL, html string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO page_cache (url, html, saved_at) VALUES (?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET html = excluded.html, saved_at = excluded.saved_at`, pageURL, html, ts(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlite: save page %s: %w", pageURL, err)
	}
	return nil
}

// CachedPage returns a cached page.
func (s *Store) CachedPage(ctx context.Context, pageURL string) (history.Page, error) {
	p := history.Page{URL: pageURL}
	var saved string
	err := s.db.QueryRowContext(ctx, `SELECT html, saved_at FROM page_cache WHERE url = ?`, pageURL).Scan(&p.HTML, &saved)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("cached page %s: %w", pageURL, history.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("sqlite: cached page %s: %w", pageURL, err)
	}
	p.SavedAt = parseTS(saved)
	return p, nil
}

// RecordPluginSwap stores a plugin swap.
func (s *Store) RecordPluginSwap(ctx context.Context, sw history.PluginSwap) error {
	if sw.PluginID == "" || sw.Outcome == "" {
		return fmt.Errorf("%w: plugin swap needs a plugin id and an outcome", history.ErrBadRecord)
	}
	if sw.At.IsZero() {
		sw.At = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO plugin_swaps (plugin_id, old_version, old_sha256, new_version, new_sha256, outcome, reason, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sw.PluginID, sw.OldVersion, sw.OldSHA256, sw.NewVersion, sw.NewSHA256, sw.Outcome, sw.Reason, ts(sw.At))
	if err != nil {
		return fmt.Errorf("sqlite: plugin swap %s: %w", sw.PluginID, err)
	}
	return nil
}

// PluginSwaps returns a plugin's swaps, newest first; "" means all plugins.
func (s *Store) PluginSwaps(ctx context.Context, pluginID string) ([]history.PluginSwap, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT plugin_id, coalesce(old_version, ''), coalesce(old_sha256, ''), coalesce(new_version, ''),
			coalesce(new_sha256, ''), outcome, coalesce(reason, ''), at
		FROM plugin_swaps WHERE ?1 = '' OR plugin_id = ?1 ORDER BY at DESC, id DESC`, pluginID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: plugin swaps: %w", err)
	}
	defer rows.Close()
	var out []history.PluginSwap
	for rows.Next() {
		var sw history.PluginSwap
		var at string
		if err := rows.Scan(&sw.PluginID, &sw.OldVersion, &sw.OldSHA256, &sw.NewVersion, &sw.NewSHA256, &sw.Outcome, &sw.Reason, &at); err != nil {
			return nil, fmt.Errorf("sqlite: plugin swaps: %w", err)
		}
		sw.At = parseTS(at)
		out = append(out, sw)
	}
	return out, rows.Err()
}

var _ history.Store = (*Store)(nil)
