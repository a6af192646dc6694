package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfheal/engine/internal/history/postgres"
	"github.com/selfheal/engine/internal/history/sqlite"
	"github.com/selfheal/engine/migrations"
)

func TestOpenPicksTheStore(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	t.Setenv("DATABASE_URL", "")
	ctx := context.Background()

	s, v, err := OpenMigrated(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*sqlite.Store); !ok || v != migrations.Latest(migrations.SQLite) {
		t.Errorf("default: %T version %d", s, v)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "selfheal", "history.db")); err != nil {
		t.Error(err)
	}

	for _, dsn := range []string{filepath.Join(dir, "a.db"), "sqlite:" + filepath.Join(dir, "b.db")} {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("%s: %T", dsn, s)
		}
		s.Close()
	}

	pg := os.Getenv("ENGINE_TEST_DATABASE_URL")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	t.Setenv("DATABASE_URL", pg)
	s, err = Open(ctx, "")
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("DATABASE_URL: %T", s)
	}
	s.Close()

	if _, err := Open(ctx, "mysql://x"); err == nil || !strings.Contains(err.Error(), "mysql://x") {
		t.Errorf("mysql: %v", err)
	}
}

// A database that cannot be reached gives an error naming it and a nil
// store, never a typed nil that a caller's cleanup would call into.
func TestOpenUnreachableReturnsNilStore(t *testing.T) {
	for _, dsn := range []string{"postgres://nobody@127.0.0.1:1/x?connect_timeout=2", filepath.Join(t.TempDir(), "missing", "dir", "\x00bad.db")} {
		s, err := Open(t.Context(), dsn)
		if err == nil {
			s.Close()
			t.Fatalf("%s: no error", dsn)
		}
		if s != nil {
			t.Errorf("%s: store %#v returned with error %v", dsn, s, err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"/var/lib/history.db", "/var/lib/history.db"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
