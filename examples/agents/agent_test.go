// Package agents holds agents in other languages that use `engine serve`;
// its test runs each against a live server.
package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/internal/server"
)

// The Python agent runs the seed's loop against the service: its first two
// fetches time out, retry_with_longer_timeout is not enough, the two
// strategies a fetcher cannot apply are skipped, reload_page works. Both
// attempts it logged are in the stats.
func TestPythonAgent(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to run the example agent: %v", err)
	}
	plugins, err := filepath.Abs(filepath.Join("..", "..", "build", "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plugins, "selfheal.builtin", "manifest.toml")); err != nil {
		t.Fatalf("the built-in strategies are not built (%v): run `make wasm` first", err)
	}
	eng, err := engine.New(t.Context(), engine.Config{
		DB:         filepath.Join(t.TempDir(), "history.db"),
		PluginDirs: []string{plugins},
		CacheDir:   filepath.Join(plugins, "..", "cache", "agents-test"),
		Ordered:    true, // the seed's strategy order, so the run is repeatable
	})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	svc := httptest.NewServer(server.New(eng, server.Options{Token: "agent-token"}))
	defer svc.Close()

	// The page is slow for its first two requests: 5 s, beyond the agent's
	// 1 s and then 2 s timeouts (wide margins: the machine may be busy).
	var hits atomic.Int32
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprint(w, "<html><body>ok</body></html>")
	}))
	defer page.Close()

	cmd := exec.CommandContext(t.Context(), python, "agent.py", "--service", svc.URL, "--url", page.URL+"/", "--timeout", "1")
	cmd.Env = append(os.Environ(), "ENGINE_TOKEN=agent-token")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("agent: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var res struct {
		Result   string `json:"result"`
		Status   int    `json:"status"`
		Attempts []struct {
			ErrorType string `json:"error_type"`
			Strategy  string `json:"strategy"`
			Success   bool   `json:"success"`
			Skipped   bool   `json:"skipped"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("agent output %s: %v", out, err)
	}
	if res.Result != "ok" || res.Status != 200 {
		t.Fatalf("agent: %s", out)
	}
	var logged []string
	for _, a := range res.Attempts {
		if a.ErrorType != "timeout" {
			t.Errorf("attempt %+v: want error type timeout", a)
		}
		if !a.Skipped {
			logged = append(logged, fmt.Sprintf("%s=%v", a.Strategy, a.Success))
		}
	}
	if fmt.Sprint(logged) != "[retry_with_longer_timeout=false reload_page=true]" {
		t.Errorf("attempts %v; output %s", logged, out)
	}

	// What the agent logged over HTTP is in the store.
	if err := eng.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	rates, err := eng.Stats(t.Context(), "timeout")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.SuccessRate{}
	for _, r := range rates {
		got[r.Strategy] = r
	}
	if r := got["retry_with_longer_timeout"]; r.TotalAttempts != 1 || r.SuccessRate != 0 {
		t.Errorf("retry_with_longer_timeout: %+v", r)
	}
	if r := got["reload_page"]; r.TotalAttempts != 1 || r.SuccessRate != 100 {
		t.Errorf("reload_page: %+v; agent output %s", r, out)
	}
}
