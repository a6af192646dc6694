package engine

import (
	"context"
	"strings"
	"testing"
)

// An unreachable database is a clear error naming it, not a crash.
func TestNewWithUnreachableDatabase(t *testing.T) {
	_, err := New(context.Background(), Config{DB: "postgres://nobody:secret@127.0.0.1:1/x?connect_timeout=2", CacheDir: t.TempDir()})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "secret") {
		t.Errorf("error %q should name the database and hide its password", msg)
	}
}

func TestResolveURL(t *testing.T) {
	tests := []struct{ base, ref, want string }{
		{"http://127.0.0.1:8080", "/v1/", "http://127.0.0.1:8080/v1/"},
		{"", "http://x/y", "http://x/y"},
		{"http://a/b/", "http://x/y", "http://x/y"},
	}
	for _, tt := range tests {
		got, err := resolveURL(tt.base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("resolveURL(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
	if _, err := resolveURL("", "/v1/"); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Errorf("relative URL without a base: %v", err)
	}
}
