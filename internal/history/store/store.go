// Package store opens the history store a data source name points at, so
// that every engine command picks its database the same way.
package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/postgres"
	"github.com/selfheal/engine/internal/history/sqlite"
)

// Resolve turns a --db value into a concrete one: empty means
// $DATABASE_URL, else the default SQLite file.
func Resolve(dsn string) (string, error) {
	if dsn == "" {
		dsn = os.Getenv("DATABASE_URL")
	}
	if dsn == "" {
		p, err := sqlite.DefaultPath()
		if err != nil {
			return "", err
		}
		dsn = p
	}
	return dsn, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the store dsn names: "postgres://..." or "postgresql://..."
// for PostgreSQL; "sqlite:PATH", "file:PATH" or a plain path for SQLite;
// empty for $DATABASE_URL or the default SQLite file. It does not migrate.
func Open(ctx context.Context, dsn string) (history.Store, error) {
	dsn, err := Resolve(dsn)
	if err != nil {
		return nil, err
	}
	// Each branch returns a nil interface on failure: a typed nil store in
	// a non-nil interface would be closed by callers' cleanup.
	if IsPostgres(dsn) {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if strings.Contains(path, "://") {
		return nil, fmt.Errorf("store: %q is neither a postgres:// URL nor a file path", dsn)
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenMigrated opens the store and applies pending migrations.
func OpenMigrated(ctx context.Context, dsn string) (history.Store, int, error) {
	s, err := Open(ctx, dsn)
	if err != nil {
		return nil, 0, err
	}
	v, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, 0, err
	}
	return s, v, nil
}

// Redact hides the password of a database URL, for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
