package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/store"
)

func TestHistoryCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "h.db")
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runMain(t.Context(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	if code, _, errOut := run("stats", "--db", db); code != exitBadInput || !strings.Contains(errOut, "engine migrate") {
		t.Errorf("stats before migrate: %d %s", code, errOut)
	}
	code, out, errOut := run("migrate", "--db", db)
	if code != 0 || !strings.Contains(out, "schema version 3 (migrated from 0)") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if code, out, _ := run("migrate", "--db", db); code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("second migrate: %d %q", code, out)
	}

	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := s.CreateSession(ctx, history.Session{Name: "t"})
	var as []history.Attempt
	for i, x := range []struct {
		typ, strategy string
		ok            bool
	}{{"element_not_found", "wait_longer", true}, {"element_not_found", "wait_longer", false}, {"timeout", "reload_page", true}, {"timeout", "", false}} {
		as = append(as, history.Attempt{ID: history.NewID(), SessionID: sess.ID, ErrorType: x.typ, Strategy: x.strategy, Success: x.ok,
			ErrorMessage: "m", RetryCount: i, Host: "shop.example",
			// Distinct times: history is ordered by time, and equal times
			// would leave the order to the random ids.
			CreatedAt: time.Date(2026, 1, 18, 12, 0, i, 0, time.UTC)})
	}
	if _, err := s.AppendAttempts(ctx, as); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, out, _ = run("stats", "--db", db)
	want := `error_type        | strategy_used | success_rate | total_attempts
------------------|---------------|--------------|---------------
timeout           | reload_page   | 100.00       | 1
element_not_found | wait_longer   | 50.00        | 2
timeout           | (none left)   | 0.00         | 1
`
	if code != 0 || out != want {
		t.Errorf("stats:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = run("stats", "--db", db, "--json", "--type", "timeout")
	var rates []rateJSON
	if err := json.Unmarshal([]byte(out), &rates); code != 0 || err != nil || len(rates) != 2 || rates[1].StrategyUsed != nil {
		t.Errorf("stats --json: %d %s", code, out)
	}

	code, out, _ = run("history", "--db", db, "--session", sess.ID)
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "recovered") || !strings.Contains(out, "(none left)") {
		t.Errorf("history:\n%s", out)
	}
	code, out, _ = run("history", "--db", db, "--session", sess.ID, "--json")
	var hist []attemptJSON
	if err := json.Unmarshal([]byte(out), &hist); code != 0 || err != nil || len(hist) != 4 || hist[0].ErrorType != "element_not_found" {
		t.Errorf("history --json: %d %s", code, out)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "--db", db}, "--session is required"},
		{[]string{"history", "--db", db, "--session", "abc"}, `"abc" is not a session ID`},
		{[]string{"history", "--db", db, "--session", history.NewID()}, "no session"},
		{[]string{"stats", "--db", db, "--view", "--host", "x"}, "--view cannot"},
		{[]string{"stats", "--bogus"}, "bogus"},
	} {
		if code, _, errOut := run(tt.args...); code != exitBadInput || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: %d %q, want exit 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}
