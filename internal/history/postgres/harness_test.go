package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// baseURL is the test server: ENGINE_TEST_DATABASE_URL or the local one.
func baseURL() string {
	if u := os.Getenv("ENGINE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// newSchema creates a schema of its own for one test and returns a URL
// whose connections use it. An unreachable server fails the test: the
// PostgreSQL store is not optional.
func newSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, baseURL())
	if err != nil {
		t.Fatalf("PostgreSQL unreachable at %s (set ENGINE_TEST_DATABASE_URL): %v", baseURL(), err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "h3test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), baseURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return withParam(t, baseURL(), "search_path", schema)
}

func withParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// openMigrated opens a store on a fresh schema, migrated to target (0 for
// the latest).
func openMigrated(t testing.TB, target int) (*Store, string) {
	t.Helper()
	u := newSchema(t)
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if target == 0 {
		_, err = s.Migrate(context.Background())
	} else {
		_, err = s.MigrateTo(context.Background(), target)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, u
}
