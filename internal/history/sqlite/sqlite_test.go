package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/historytest"
	"github.com/selfheal/engine/migrations"
)

func openTemp(t *testing.T) history.Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	historytest.Run(t, migrations.SQLite, openTemp)
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if p, _ := DefaultPath(); p != "/state/selfheal/history.db" {
		t.Errorf("DefaultPath = %s", p)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if p, _ := DefaultPath(); p != "/home/u/.local/state/selfheal/history.db" {
		t.Errorf("DefaultPath = %s", p)
	}
}

// An empty path opens the default file, creating its directory.
func TestOpenDefault(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	s, err := Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(context.Background()); err != nil || v != 0 {
		t.Errorf("fresh Version = %d, %v", v, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "selfheal", "history.db")); err != nil {
		t.Error(err)
	}
}
