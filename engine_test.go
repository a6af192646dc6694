package engine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
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

// A browser that dies mid-run fails the step at once, naming Chromium, and
// the next session gets a new browser.
func TestBrowserCrash(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<title>t</title><button id="b">Go</button>`)
	}))
	defer srv.Close()
	ctx := context.Background()
	eng, err := New(ctx, Config{DB: filepath.Join(t.TempDir(), "h.db"), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	s, err := eng.OpenSession(ctx, SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Do(ctx, Step{Action: abi.Action{Kind: abi.ActionNavigate, URL: srv.URL}}); r.Status != "passed" {
		t.Fatalf("navigate: %+v", r)
	}
	if err := eng.browser.Process().Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := s.Do(ctx, Step{Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#b"}, TimeoutMS: 3000}})
	if r.Status != "failed" || !strings.Contains(r.Error, "chromium") || len(r.Attempts) != 0 {
		t.Fatalf("after the crash: %+v", r)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the crash took %v to report", d)
	}
	s2, err := eng.OpenSession(ctx, SessionOptions{})
	if err != nil {
		t.Fatalf("a session after the crash: %v", err)
	}
	defer s2.Close()
	if r := s2.Do(ctx, Step{Action: abi.Action{Kind: abi.ActionNavigate, URL: srv.URL}}); r.Status != "passed" {
		t.Fatalf("navigate in a new browser: %+v", r)
	}
}
