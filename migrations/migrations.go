// Package migrations holds the versioned database schema of the history
// store, for PostgreSQL and for SQLite, behind go:embed.
//
// Both dialects share version numbers: 1 is the self-healing design

// six default patterns), 2 replaces the per-row trigger with batched
// statistics and a counter table, 3 adds the engine's other records. The
// stores record applied versions in schema_migrations and apply each file
// once, in a transaction; the files also use IF NOT EXISTS wherever the
// dialect has it, so that re-running one over a hand-made schema is safe.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string // file name without the version and extension
	SQL     string
}

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// For returns the migrations of a dialect in version order.
func For(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrations: %s/%s: name must be NNNN_name.sql", dialect, name)
		}
		b, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s: version %d where %d was expected", dialect, m.Version, i+1)
		}
	}
	return out, nil
}

// Latest returns the highest version of a dialect.
func Latest(dialect string) int {
	ms, err := For(dialect)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}
