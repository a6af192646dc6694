package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	engine "github.com/selfheal/engine"
)

// pluginDir is the repository's build/plugins, built by `make wasm`.
func pluginDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "build", "plugins")
	if _, err := os.Stat(filepath.Join(dir, "selfheal.builtin", "manifest.toml")); err != nil {
		t.Fatalf("the built-in strategies are not built (%v): run `make wasm` first", err)
	}
	return dir
}

// newEngine opens a real engine: SQLite in a temporary folder, the built
// plugins, strategies in the patterns' order so that tests are repeatable.
func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	dir := t.TempDir()
	plugins := pluginDir(t)
	eng, err := engine.New(t.Context(), engine.Config{
		DB:         filepath.Join(dir, "history.db"),
		PluginDirs: []string{plugins},
		// The wazero compilation cache survives runs, as in the host tests;
		// the attempt spool is named after the database, so runs do not share it.
		CacheDir: filepath.Join(plugins, "..", "cache", "server-test"),
		Ordered:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

// client calls a test server and decodes JSON answers.
type client struct {
	t     testing.TB
	base  string
	token string
}

func (c client) do(method, path, body string, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Content-Type") != "application/json" {
		c.t.Errorf("%s %s: content type %q, body %s", method, path, resp.Header.Get("Content-Type"), data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func newTestServer(t testing.TB, eng *engine.Engine, opts Options) (*Server, client) {
	srv := New(eng, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, client{t: t, base: ts.URL, token: opts.Token}
}

// The seed's loop over HTTP: classify, next strategy, log, and the attempt
// shows in the stats once the engine has flushed.
func TestClassifyStrategyAttemptsStats(t *testing.T) {
	eng := newEngine(t)
	_, c := newTestServer(t, eng, Options{})

	var cl engine.Classification
	if code := c.do("POST", "/v1/classify", `{"error": "TimeoutError: Timeout 3000ms exceeded"}`, &cl); code != 200 {
		t.Fatalf("classify: %d", code)
	}
	if cl.ErrorType != "timeout" || len(cl.Strategies) == 0 || cl.Strategies[0] != "retry_with_longer_timeout" {
		t.Fatalf("classify: %+v", cl)
	}

	var next struct {
		Strategy *string         `json:"strategy"`
		Params   json.RawMessage `json:"params"`
	}
	if code := c.do("POST", "/v1/strategy/next", `{"error_type": "timeout", "retry_count": 0}`, &next); code != 200 || next.Strategy == nil {
		t.Fatalf("next: %d %+v", code, next)
	}
	if *next.Strategy != "retry_with_longer_timeout" {
		t.Errorf("first timeout strategy in order: %q", *next.Strategy)
	}
	// Every strategy tried: none is left, and the answer says so with null.
	tried, _ := json.Marshal(cl.Strategies)
	var none map[string]any
	c.do("POST", "/v1/strategy/next", `{"error_type": "timeout", "retry_count": 3, "tried": `+string(tried)+`}`, &none)
	if v, ok := none["strategy"]; !ok || v != nil {
		t.Errorf("no strategy left: %v", none)
	}

	for i, ok := range []bool{true, true, false} {
		body := `{"error_type": "timeout", "error_message": "Timeout exceeded", "strategy_used": "` + *next.Strategy +
			`", "success": ` + map[bool]string{true: "true", false: "false"}[ok] + `, "retry_count": ` + string(rune('0'+i)) +
			`, "host": "shop.example", "context": {"url": "http://shop.example/"}}`
		var got map[string]string
		if code := c.do("POST", "/v1/attempts", body, &got); code != http.StatusAccepted || !isUUID(got["id"]) {
			t.Fatalf("attempt %d: %d %v", i, code, got)
		}
	}
	// A strategy of null (the seed logs None when nothing is left) is accepted.
	if code := c.do("POST", "/v1/attempts", `{"error_type": "timeout", "strategy_used": null, "success": false}`, nil); code != http.StatusAccepted {
		t.Fatalf("attempt without strategy: %d", code)
	}
	if err := eng.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var rates []engine.SuccessRate
	if code := c.do("GET", "/v1/stats?error_type=timeout", "", &rates); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	var found bool
	for _, r := range rates {
		if r.ErrorType != "timeout" {
			t.Errorf("filtered stats hold %+v", r)
		}
		if r.Strategy == *next.Strategy {
			found = true
			if r.TotalAttempts != 3 || r.SuccessRate < 66 || r.SuccessRate > 67 {
				t.Errorf("stats row %+v, want 3 attempts at 66.67%%", r)
			}
		}
	}
	if !found {
		t.Errorf("stats %+v lack %s", rates, *next.Strategy)
	}

	var plugins []pluginResponse
	if code := c.do("GET", "/v1/plugins", "", &plugins); code != 200 || len(plugins) == 0 {
		t.Fatalf("plugins: %d %+v", code, plugins)
	}
	var builtin *pluginResponse
	for i := range plugins {
		if plugins[i].ID == "selfheal.builtin" {
			builtin = &plugins[i]
		}
	}
	if builtin == nil || len(builtin.SHA256) != 64 || len(builtin.Strategies) == 0 || builtin.Stats.Instances == 0 {
		t.Errorf("plugins: builtin %+v", builtin)
	}
	var health map[string]any
	if code := c.do("GET", "/v1/health", "", &health); code != 200 || health["ok"] != true || health["plugins"] != float64(len(plugins)) {
		t.Errorf("health: %d %v", code, health)
	}
}

func TestAuth(t *testing.T) {
	eng := newEngine(t)
	_, c := newTestServer(t, eng, Options{Token: "s3cret"})
	anon := client{t: t, base: c.base}
	wrong := client{t: t, base: c.base, token: "s3cres"}

	var e map[string]string
	if code := anon.do("GET", "/v1/health", "", nil); code != 200 {
		t.Errorf("health needs no token: %d", code)
	}
	for _, cl := range []client{anon, wrong} {
		if code := cl.do("POST", "/v1/classify", `{"error": "x"}`, &e); code != http.StatusUnauthorized || e["error"] == "" {
			t.Errorf("token %q: %d %v", cl.token, code, e)
		}
		if code := cl.do("GET", "/v1/stats", "", nil); code != http.StatusUnauthorized {
			t.Errorf("stats with token %q: %d", cl.token, code)
		}
	}
	if code := c.do("POST", "/v1/classify", `{"error": "x"}`, nil); code != 200 {
		t.Errorf("with the token: %d", code)
	}
}

func TestBadRequests(t *testing.T) {
	eng := newEngine(t)
	_, c := newTestServer(t, eng, Options{MaxBodyBytes: 512})
	const uuid = "123e4567-e89b-12d3-a456-426614174000"
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string // in the error message
	}{
		{"POST", "/v1/classify", `{"error": `, 400, "truncated"},
		{"POST", "/v1/classify", `{"error": "x",}`, 400, "invalid JSON"},
		{"POST", "/v1/classify", ``, 400, "empty"},
		{"POST", "/v1/classify", `{"error": "x"} {}`, 400, "more after"},
		{"POST", "/v1/classify", `{"error": "x", "contxt": {}}`, 400, `unknown field "contxt"`},
		{"POST", "/v1/classify", `{"error": 3}`, 400, "error: want string"},
		{"POST", "/v1/classify", `[1]`, 400, "want a JSON object"},
		{"POST", "/v1/classify", `{"error": " "}`, 400, "error: required"},
		{"POST", "/v1/classify", `{"error": "` + strings.Repeat("x", 600) + `"}`, 413, "larger than 512"},
		{"POST", "/v1/strategy/next", `{"retry_count": 1}`, 400, "error_type: required"},
		{"POST", "/v1/strategy/next", `{"error_type": "timeout", "retry_count": -1}`, 400, "retry_count"},
		{"POST", "/v1/strategy/next", `{"error_type": "timeout", "session_id": "s1"}`, 400, "session_id"},
		{"POST", "/v1/attempts", `{"error_type": "timeout"}`, 400, "success: required"},
		{"POST", "/v1/attempts", `{"success": true}`, 400, "error_type: required"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": "yes"}`, 400, "success: want bool"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": true, "retry_count": -2}`, 400, "retry_count"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": true, "session_id": "abc"}`, 400, "session_id"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": true, "id": "abc"}`, 400, "id:"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": true, "context": [1]}`, 400, "context"},
		{"POST", "/v1/attempts", `{"error_type": "timeout", "success": true, "created_at": "yesterday"}`, 400, "created_at: want an RFC 3339"},
		{"POST", "/v1/sessions", `{"viewport": "big"}`, 400, "viewport"},
		{"POST", "/v1/sessions", `{"url": "file:///etc/passwd"}`, 400, "url:"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "jump"}`, 400, `kind: unknown action "jump"`},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "click"}`, 400, "target: required"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "click", "target": {}}`, 400, "target: required"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "navigate"}`, 400, "url: required"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "assert_url", "url_pattern": "("}`, 400, "url_pattern"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "click", "target": {"css": "#a"}, "retries": -1}`, 400, "retries"},
		{"POST", "/v1/sessions/" + uuid + "/act", `{"kind": "click", "target": {"css": "#a"}}`, 404, "no open session"},
		{"DELETE", "/v1/sessions/" + uuid, ``, 404, "no open session"},
		{"GET", "/v1/sessions/nope/history", ``, 400, "not a session id"},
		{"GET", "/v1/classify", ``, 405, "use POST"},
		{"GET", "/v2/classify", ``, 404, "no route"},
	} {
		var e map[string]string
		code := c.do(tc.method, tc.path, tc.body, &e)
		if code != tc.status || !strings.Contains(e["error"], tc.want) {
			t.Errorf("%s %s %.40s: %d %q, want %d with %q", tc.method, tc.path, tc.body, code, e["error"], tc.status, tc.want)
		}
	}
	// History of a session the store has never seen is empty, not an error.
	var rows []engine.Attempt
	if code := c.do("GET", "/v1/sessions/"+uuid+"/history", "", &rows); code != 200 || len(rows) != 0 {
		t.Errorf("history of an unknown session: %d %v", code, rows)
	}
}

func TestIsUUID(t *testing.T) {
	for id, want := range map[string]bool{
		"123e4567-e89b-12d3-a456-426614174000": true,
		"123E4567-E89B-12D3-A456-426614174000": true,
		"123e4567e89b-12d3-a456-426614174000-": false,
		"123e4567-e89b-12d3-a456-42661417400g": false,
		"":                                     false,
	} {
		if isUUID(id) != want {
			t.Errorf("isUUID(%q) = %v", id, !want)
		}
	}
}

func TestParseViewport(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w, h int
		ok   bool
	}{{"1280x800", 1280, 800, true}, {"800X600", 800, 600, true}, {"1280", 0, 0, false}, {"0x0", 0, 0, false}, {"axb", 0, 0, false}, {"99999x10", 0, 0, false}} {
		w, h, err := parseViewport(tc.in)
		if (err == nil) != tc.ok || w != tc.w || h != tc.h {
			t.Errorf("parseViewport(%q) = %d, %d, %v", tc.in, w, h, err)
		}
	}
}
