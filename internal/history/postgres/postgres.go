// Package postgres is the PostgreSQL history store (pgx/v5, pgxpool).
//
// Attempts are written in batches: COPY into a per-connection temporary
// staging table, then one INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING
// into error_recovery_history. The statement-level trigger of migration 2
// sees the batch's new rows as a transition table and updates each
// pattern's counters and the recovery_stats counter table once per batch,
// so concurrent writers do not queue on one hot error_patterns row, and a
// replayed attempt is neither stored nor counted twice.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/migrations"
)

// Store is the PostgreSQL history store.
type Store struct {
	pool *pgxpool.Pool
}

// stagingDDL creates the connection's staging table. Text columns take the
// client's values as they are; the INSERT ... SELECT casts them.
const stagingDDL = `CREATE TEMP TABLE IF NOT EXISTS attempt_staging (
	id text, session_id text, error_pattern_id text, error_type text, error_message text,
	strategy_used text, success boolean, retry_count integer, context text,
	created_at timestamptz, host text, action_kind text
) ON COMMIT DELETE ROWS`

var stagingColumns = []string{"id", "session_id", "error_pattern_id", "error_type", "error_message",
	"strategy_used", "success", "retry_count", "context", "created_at", "host", "action_kind"}

// Open connects to the database at url (postgres://...). Extra URL
// parameters are session settings, e.g. search_path=myschema. It does not
// migrate: call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, stagingDDL)
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, wrap("connecting", err)
	}
	return &Store{pool: pool}, nil
}

// Pool exposes the connection pool for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// wrap names the operation and marks connection failures ErrUnavailable,
// which tells the Recorder to spool and retry.
func wrap(op string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, history.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 connection exceptions; shutdowns; too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "connection reset")
}

// Migrate applies pending migrations.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	return s.MigrateTo(ctx, migrations.Latest(migrations.Postgres))
}

// MigrateTo applies migrations up to version target. Each runs in its own
// transaction under an advisory lock, so concurrent engines migrate once.
func (s *Store) MigrateTo(ctx context.Context, target int) (int, error) {
	ms, err := migrations.For(migrations.Postgres)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		if m.Version > target {
			break
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('selfheal.migrations'))`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil || done {
				return err
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return 0, wrap(fmt.Sprintf("migration %d (%s)", m.Version, m.Name), err)
		}
	}
	return s.Version(ctx)
}

// Version returns the applied schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v *int32
	err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil {
		return 0, wrap("version", err)
	}
	if v == nil {
		return 0, nil
	}
	return int(*v), nil
}

// UpsertPatterns inserts or updates patterns, keeping their counters.
func (s *Store) UpsertPatterns(ctx context.Context, ps []history.PatternRecord) error {
	b := &pgx.Batch{}
	for _, p := range ps {
		strategies := string(p.Strategies)
		if strategies == "" {
			strategies = "[]"
		}
		b.Queue(`INSERT INTO error_patterns (pattern_name, error_signature, description, recovery_strategies, success_rate)
			VALUES ($1, $2, $3, $4::jsonb, $5)
			ON CONFLICT (pattern_name) DO UPDATE SET
				error_signature = EXCLUDED.error_signature,
				description = EXCLUDED.description,
				recovery_strategies = EXCLUDED.recovery_strategies,
				success_rate = CASE WHEN error_patterns.total_attempts = 0 THEN EXCLUDED.success_rate ELSE error_patterns.success_rate END,
				updated_at = now()`,
			p.Name, p.Signature, p.Description, strategies, p.ExpectedRate*100)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return wrap("upsert patterns", err)
	}
	return nil
}

// Patterns returns the stored patterns, by name.
func (s *Store) Patterns(ctx context.Context) ([]history.PatternRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT pattern_name, coalesce(error_signature, ''), coalesce(description, ''),
			coalesce(recovery_strategies, '[]')::text, coalesce(success_rate, 0)::float8
		FROM error_patterns ORDER BY pattern_name`)
	if err != nil {
		return nil, wrap("patterns", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.PatternRecord, error) {
		var p history.PatternRecord
		var strategies string
		err := r.Scan(&p.Name, &p.Signature, &p.Description, &strategies, &p.ExpectedRate)
		p.Strategies = json.RawMessage(strategies)
		p.ExpectedRate /= 100
		return p, err
	})
	if err != nil {
		return nil, wrap("patterns", err)
	}
	return out, nil
}

// PatternStats returns every pattern's counters, by name.
func (s *Store) PatternStats(ctx context.Context) ([]history.PatternStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text, pattern_name, coalesce(success_rate, 0)::float8,
			coalesce(total_attempts, 0)::int8, coalesce(successful_attempts, 0)::int8
		FROM error_patterns ORDER BY pattern_name`)
	if err != nil {
		return nil, wrap("pattern stats", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.PatternStats, error) {
		var p history.PatternStats
		err := r.Scan(&p.ID, &p.Name, &p.SuccessRate, &p.TotalAttempts, &p.SuccessfulAttempts)
		return p, err
	})
	if err != nil {
		return nil, wrap("pattern stats", err)
	}
	return out, nil
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
	meta := string(sess.Metadata)
	if meta == "" {
		meta = "{}"
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO browser_sessions (id, name, metadata, created_at) VALUES ($1::uuid, $2, $3::jsonb, $4)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, metadata = EXCLUDED.metadata`, sess.ID, sess.Name, meta, sess.CreatedAt)
	if err != nil {
		return sess, wrap("create session", err)
	}
	return s.Session(ctx, sess.ID)
}

// Session returns a session.
func (s *Store) Session(ctx context.Context, id string) (history.Session, error) {
	var sess history.Session
	if !history.IsUUID(id) {
		return sess, fmt.Errorf("session %q: %w", id, history.ErrNotFound)
	}
	var name *string
	var meta string
	err := s.pool.QueryRow(ctx, `SELECT id::text, name, metadata::text, created_at FROM browser_sessions WHERE id = $1::uuid`, id).
		Scan(&sess.ID, &name, &meta, &sess.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess, fmt.Errorf("session %s: %w", id, history.ErrNotFound)
	}
	if err != nil {
		return sess, wrap("session "+id, err)
	}
	if name != nil {
		sess.Name = *name
	}
	sess.Metadata = json.RawMessage(meta)
	return sess, nil
}

// AppendAttempts stores a batch: COPY into staging, then one INSERT.
func (s *Store) AppendAttempts(ctx context.Context, as []history.Attempt) (int, error) {
	for i := range as {
		if err := as[i].Validate(); err != nil {
			return 0, err
		}
	}
	if len(as) == 0 {
		return 0, nil
	}
	var inserted int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"attempt_staging"}, stagingColumns, pgx.CopyFromSlice(len(as), func(i int) ([]any, error) {
			a := &as[i]
			return []any{a.ID, nullStr(a.SessionID), nullStr(a.ErrorPatternID), a.ErrorType, a.ErrorMessage,
				nullStr(a.Strategy), a.Success, int32(a.RetryCount), nullStr(string(a.Context)), a.CreatedAt,
				nullStr(a.Host), nullStr(a.ActionKind)}, nil
		}))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO browser_sessions (id, created_at)
			SELECT session_id::uuid, min(created_at) FROM attempt_staging WHERE session_id IS NOT NULL
			GROUP BY session_id ORDER BY session_id
			ON CONFLICT (id) DO NOTHING`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO error_recovery_history
				(id, session_id, error_pattern_id, error_type, error_message, strategy_used, success, retry_count, context, created_at, host, action_kind)
			SELECT st.id::uuid, st.session_id::uuid, coalesce(st.error_pattern_id::uuid, p.id), st.error_type, st.error_message,
				st.strategy_used, st.success, st.retry_count, st.context::jsonb, st.created_at, st.host, st.action_kind
			FROM attempt_staging st LEFT JOIN error_patterns p ON p.pattern_name = st.error_type
			ON CONFLICT (id) DO NOTHING`)
		inserted = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap(fmt.Sprintf("append %d attempts", len(as)), err)
	}
	return int(inserted), nil
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// SessionHistory returns a session's attempts, oldest first.
func (s *Store) SessionHistory(ctx context.Context, sessionID string) ([]history.Attempt, error) {
	if !history.IsUUID(sessionID) {
		return nil, fmt.Errorf("%w: session id %q is not a UUID", history.ErrBadRecord, sessionID)
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, coalesce(session_id::text, ''), coalesce(error_pattern_id::text, ''),
			coalesce(error_type, ''), coalesce(error_message, ''), coalesce(strategy_used, ''), coalesce(success, false),
			coalesce(retry_count, 0), coalesce(context::text, ''), created_at, coalesce(host, ''), coalesce(action_kind, '')
		FROM error_recovery_history WHERE session_id = $1::uuid ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, wrap("session history", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.Attempt, error) {
		var a history.Attempt
		var ctxJSON string
		var retry int32
		err := r.Scan(&a.ID, &a.SessionID, &a.ErrorPatternID, &a.ErrorType, &a.ErrorMessage, &a.Strategy, &a.Success,
			&retry, &ctxJSON, &a.CreatedAt, &a.Host, &a.ActionKind)
		a.RetryCount = int(retry)
		if ctxJSON != "" {
			a.Context = json.RawMessage(ctxJSON)
		}
		return a, err
	})
	if err != nil {
		return nil, wrap("session history", err)
	}
	return out, nil
}

// SuccessRates returns rates from the counter table, or the view.
func (s *Store) SuccessRates(ctx context.Context, f history.RateFilter) ([]history.SuccessRate, error) {
	var q string
	args := []any{f.ErrorType, f.Strategy}
	if f.FromView {
		q = `SELECT coalesce(error_type, ''), coalesce(strategy_used, ''), success_rate::float8, total_attempts::int8
			FROM recovery_success_rates
			WHERE ($1 = '' OR error_type = $1) AND ($2 = '' OR strategy_used = $2)
			ORDER BY success_rate DESC, total_attempts DESC, 1, 2`
	} else {
		q = `SELECT error_type, strategy_used, (sum(successes) * 100.0 / sum(total))::float8, sum(total)::int8
			FROM recovery_stats
			WHERE ($1 = '' OR error_type = $1) AND ($2 = '' OR strategy_used = $2)
				AND ($3 = '' OR host = $3) AND ($4 = '' OR action_kind = $4)
			GROUP BY error_type, strategy_used
			ORDER BY 3 DESC, 4 DESC, 1, 2`
		args = append(args, f.Host, f.ActionKind)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("success rates", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.SuccessRate, error) {
		var x history.SuccessRate
		err := r.Scan(&x.ErrorType, &x.Strategy, &x.SuccessRate, &x.TotalAttempts)
		return x, err
	})
	if err != nil {
		return nil, wrap("success rates", err)
	}
	return out, nil
}

// StrategyCounts returns every counter cell.
func (s *Store) StrategyCounts(ctx context.Context) ([]history.StrategyCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT error_type, strategy_used, host, action_kind, successes, total
		FROM recovery_stats ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return nil, wrap("strategy counts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.StrategyCount, error) {
		var c history.StrategyCount
		err := r.Scan(&c.ErrorType, &c.Strategy, &c.Host, &c.ActionKind, &c.Successes, &c.Total)
		return c, err
	})
	if err != nil {
		return nil, wrap("strategy counts", err)
	}
	return out, nil
}

// SaveFingerprint stores the element record of a workflow step.
func (s *Store) SaveFingerprint(ctx context.Context, key string, el abi.Element) error {
	b, err := json.Marshal(el)
	if err != nil {
		return fmt.Errorf("postgres: fingerprint %q: %w", key, err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO element_fingerprints (key, element, updated_at) VALUES ($1, $2::jsonb, now())
		ON CONFLICT (key) DO UPDATE SET element = EXCLUDED.element, updated_at = now()`, key, string(b))
	if err != nil {
		return wrap("fingerprint "+key, err)
	}
	return nil
}

// Fingerprint returns a stored element record.
func (s *Store) Fingerprint(ctx context.Context, key string) (abi.Element, error) {
	var el abi.Element
	var b string
	err := s.pool.QueryRow(ctx, `SELECT element::text FROM element_fingerprints WHERE key = $1`, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return el, fmt.Errorf("fingerprint %q: %w", key, history.ErrNotFound)
	}
	if err != nil {
		return el, wrap("fingerprint "+key, err)
	}
	if err := json.Unmarshal([]byte(b), &el); err != nil {
		return el, fmt.Errorf("postgres: fingerprint %q: %w", key, err)
	}
	return el, nil
}

// SavePage caches a page's HTML.
func (s *Store) SavePage(ctx context.Context, url, html string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO page_cache (url, html, saved_at) VALUES ($1, $2, now())
		ON CONFLICT (url) DO UPDATE SET html = EXCLUDED.html, saved_at = now()`, url, html)
	if err != nil {
		return wrap("save page "+url, err)
	}
	return nil
}

// CachedPage returns a cached page.
func (s *Store) CachedPage(ctx context.Context, url string) (history.Page, error) {
	p := history.Page{URL: url}
	err := s.pool.QueryRow(ctx, `SELECT html, saved_at FROM page_cache WHERE url = $1`, url).Scan(&p.HTML, &p.SavedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("cached page %s: %w", url, history.ErrNotFound)
	}
	if err != nil {
		return p, wrap("cached page "+url, err)
	}
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
	_, err := s.pool.Exec(ctx, `INSERT INTO plugin_swaps (plugin_id, old_version, old_sha256, new_version, new_sha256, outcome, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, sw.PluginID, sw.OldVersion, sw.OldSHA256, sw.NewVersion, sw.NewSHA256, sw.Outcome, sw.Reason, sw.At)
	if err != nil {
		return wrap("plugin swap "+sw.PluginID, err)
	}
	return nil
}

// PluginSwaps returns a plugin's swaps, newest first; "" means all plugins.
func (s *Store) PluginSwaps(ctx context.Context, pluginID string) ([]history.PluginSwap, error) {
	rows, err := s.pool.Query(ctx, `SELECT plugin_id, coalesce(old_version, ''), coalesce(old_sha256, ''), coalesce(new_version, ''),
			coalesce(new_sha256, ''), outcome, coalesce(reason, ''), at
		FROM plugin_swaps WHERE $1 = '' OR plugin_id = $1 ORDER BY at DESC, id DESC`, pluginID)
	if err != nil {
		return nil, wrap("plugin swaps", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (history.PluginSwap, error) {
		var sw history.PluginSwap
		err := r.Scan(&sw.PluginID, &sw.OldVersion, &sw.OldSHA256, &sw.NewVersion, &sw.NewSHA256, &sw.Outcome, &sw.Reason, &sw.At)
		return sw, err
	})
	if err != nil {
		return nil, wrap("plugin swaps", err)
	}
	return out, nil
}

var _ history.Store = (*Store)(nil)
