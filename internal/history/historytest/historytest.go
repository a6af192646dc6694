// Package historytest is the conformance suite of history.Store: every
// implementation runs it (the sqlite and postgres packages do) and must
// pass all of it. It also checks the design document's monitoring
// checklist: every attempt logged, the trigger's counters right, the view
// returning the expected rows.
package historytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/classify"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/migrations"
)

// Opener returns a fresh, empty, migrated store of the implementation under
// test; the suite closes it.
type Opener func(t *testing.T) history.Store

// Run runs the whole suite.
func Run(t *testing.T, dialect string, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, string, Opener)
	}{
		{"Migrate", testMigrate},
		{"DefaultPatterns", testDefaultPatterns},
		{"UpsertPatterns", testUpsertPatterns},
		{"Sessions", testSessions},
		{"MonitoringChecklist", testMonitoringChecklist},
		{"ReplayIsIdempotent", testReplayIsIdempotent},
		{"ConcurrentWriters", testConcurrentWriters},
		{"BadRecords", testBadRecords},
		{"Records", testRecords},
		{"RecorderWritesEverything", testRecorderWritesEverything},
		{"RecorderSpoolsWhileDown", testRecorderSpoolsWhileDown},
		{"RecorderSurvivesCrash", testRecorderSurvivesCrash},
		{"RecorderCorruptSpool", testRecorderCorruptSpool},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, dialect, open) })
	}
}

func openStore(t *testing.T, open Opener) history.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func testMigrate(t *testing.T, dialect string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	want := migrations.Latest(dialect)
	for range 2 {
		v, err := s.Migrate(ctx)
		if err != nil || v != want {
			t.Fatalf("Migrate = %d, %v; want %d", v, err, want)
		}
	}
	if v, err := s.Version(ctx); err != nil || v != want {
		t.Fatalf("Version = %d, %v; want %d", v, err, want)
	}
}

// The migration seeds the design document's six patterns as the classifier
// ships them; patterns the classifier adds beyond them (click_intercepted)
// are stored by the engine at start with UpsertPatterns.
func testDefaultPatterns(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	c, err := classify.Load("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Patterns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d patterns stored, want the 6 defaults", len(got))
	}
	byName := map[string]history.PatternRecord{}
	for _, p := range got {
		byName[p.Name] = p
	}
	seed := []string{"element_not_found", "timeout", "security_challenge", "page_load_failure", "action_execution_failure", "network_error"}
	for _, name := range seed {
		if _, ok := byName[name]; !ok {
			t.Errorf("pattern %s not seeded", name)
		}
	}
	for _, p := range c.Patterns() {
		r, ok := byName[p.Name()]
		if !ok {
			continue
		}
		if r.Signature != p.Signature() || r.Description != p.Description() || math.Abs(r.ExpectedRate-p.ExpectedRate()) > 1e-9 {
			t.Errorf("%s seeded as %q %q %v, classifier has %q %q %v", p.Name(), r.Signature, r.Description, r.ExpectedRate,
				p.Signature(), p.Description(), p.ExpectedRate())
		}
		if !jsonEqual(t, r.Strategies, p.StrategiesJSON()) {
			t.Errorf("%s strategies seeded as %s, classifier has %s", p.Name(), r.Strategies, p.StrategiesJSON())
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func testUpsertPatterns(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	if _, err := s.AppendAttempts(ctx, []history.Attempt{attempt("", "timeout", "reload_page", true, "", "")}); err != nil {
		t.Fatal(err)
	}
	err := s.UpsertPatterns(ctx, []history.PatternRecord{
		{Name: "timeout", Signature: "Timeout", Description: "changed", Strategies: json.RawMessage(`[{"name":"reload_page"}]`), ExpectedRate: 0.1},
		{Name: "login_expired", Signature: "session expired", Strategies: json.RawMessage(`[{"name":"relogin","form":"#f"}]`), ExpectedRate: 0.55},
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.Patterns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]history.PatternRecord{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	if p := byName["timeout"]; p.Signature != "Timeout" || p.Description != "changed" || p.ExpectedRate != 1 {
		t.Errorf("timeout after upsert: %+v (the observed rate 100%% must survive)", p)
	}
	// The classifier's patterns round-trip.
	c, err := classify.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertPatterns(ctx, history.PatternRecords(c.Patterns())); err != nil {
		t.Fatal(err)
	}
	// Only the classifier's patterns that were not stored yet are added.
	added := 0
	for _, p := range c.Patterns() {
		if _, ok := byName[p.Name()]; !ok {
			added++
		}
	}
	if after, _ := s.Patterns(ctx); len(after) != len(ps)+added {
		t.Errorf("re-upserting the defaults: %d -> %d patterns, want %d", len(ps), len(after), len(ps)+added)
	}
	if p := byName["login_expired"]; p.ExpectedRate != 0.55 || !jsonEqual(t, p.Strategies, []byte(`[{"name":"relogin","form":"#f"}]`)) {
		t.Errorf("new pattern: %+v", p)
	}
	stats := patternStats(t, s)
	if st := stats["timeout"]; st.TotalAttempts != 1 || st.SuccessfulAttempts != 1 {
		t.Errorf("counters lost by upsert: %+v", st)
	}
}

func testSessions(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	created, err := s.CreateSession(ctx, history.Session{Name: "checkout", Metadata: json.RawMessage(`{"workflow":"buy"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Name != "checkout" || !jsonEqual(t, got.Metadata, []byte(`{"workflow":"buy"}`)) || got.CreatedAt.IsZero() {
		t.Errorf("Session = %+v", got)
	}
	if _, err := s.Session(ctx, history.NewID()); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("missing session: err = %v", err)
	}
}

var (
	types      = []string{"element_not_found", "timeout", "page_load_failure", "unknown"}
	strategies = map[string][]string{
		"element_not_found": {"wait_longer", "scroll_into_view", "use_vision_fallback"},
		"timeout":           {"retry_with_longer_timeout", "check_network_idle", "reload_page"},
		"page_load_failure": {"retry_navigation", "check_dns", ""},
		"unknown":           {"wait_and_retry", ""},
	}
	hosts = []string{"shop.example", "news.example", ""}
	kinds = []string{"click", "navigate", ""}
)

func attempt(session, errorType, strategy string, ok bool, host, kind string) history.Attempt {
	return history.Attempt{
		ID: history.NewID(), SessionID: session, ErrorType: errorType, ErrorMessage: "message for " + errorType,
		Strategy: strategy, Success: ok, Context: json.RawMessage(`{"url":"https://shop.example/cart"}`),
		Host: host, ActionKind: kind, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
}

// generate makes n attempts over the types, strategies, hosts and kinds,
// in sessions, deterministically.
func generate(n int, sessions []string) []history.Attempt {
	out := make([]history.Attempt, n)
	base := time.Now().UTC().Truncate(time.Microsecond)
	for i := range out {
		et := types[i%len(types)]
		ss := strategies[et]
		a := attempt(sessions[i%len(sessions)], et, ss[(i/3)%len(ss)], (i*7)%10 < 6, hosts[(i/5)%len(hosts)], kinds[(i/2)%len(kinds)])
		a.RetryCount = i % 3
		a.CreatedAt = base.Add(time.Duration(i) * time.Microsecond)
		out[i] = a
	}
	return out
}

// expected computes what the stats must say about attempts.
type expected struct {
	rates    map[[2]string][2]int64 // (type, strategy) -> successes, total
	patterns map[string][2]int64    // type -> successes, total (patterns only)
	cells    map[[4]string][2]int64
}

func expect(as []history.Attempt) expected {
	e := expected{rates: map[[2]string][2]int64{}, patterns: map[string][2]int64{}, cells: map[[4]string][2]int64{}}
	add := func(v [2]int64, ok bool) [2]int64 {
		if ok {
			v[0]++
		}
		v[1]++
		return v
	}
	for _, a := range as {
		e.rates[[2]string{a.ErrorType, a.Strategy}] = add(e.rates[[2]string{a.ErrorType, a.Strategy}], a.Success)
		if a.ErrorType != "unknown" {
			e.patterns[a.ErrorType] = add(e.patterns[a.ErrorType], a.Success)
		}
		k := [4]string{a.ErrorType, a.Strategy, a.Host, a.ActionKind}
		e.cells[k] = add(e.cells[k], a.Success)
	}
	return e
}

func patternStats(t *testing.T, s history.Store) map[string]history.PatternStats {
	t.Helper()
	ps, err := s.PatternStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]history.PatternStats{}
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}

// CheckStats verifies every statistic the store keeps against attempts:
// the trigger's pattern counters, the counter table, the view, and the
// counter cells. Exported for the stores' own fault tests.
func CheckStats(t *testing.T, s history.Store, as []history.Attempt) {
	t.Helper()
	ctx := context.Background()
	e := expect(as)
	stats := patternStats(t, s)
	for name, v := range e.patterns {
		p := stats[name]
		rate := math.Round(float64(v[0])*100/float64(v[1])*100) / 100
		if p.SuccessfulAttempts != v[0] || p.TotalAttempts != v[1] || math.Abs(p.SuccessRate-rate) > 0.005 {
			t.Errorf("error_patterns %s: %d/%d rate %.2f, want %d/%d rate %.2f", name, p.SuccessfulAttempts, p.TotalAttempts, p.SuccessRate, v[0], v[1], rate)
		}
	}
	for _, fromView := range []bool{false, true} {
		rates, err := s.SuccessRates(ctx, history.RateFilter{FromView: fromView})
		if err != nil {
			t.Fatal(err)
		}
		if len(rates) != len(e.rates) {
			t.Errorf("SuccessRates(view=%v): %d rows, want %d", fromView, len(rates), len(e.rates))
		}
		for i, r := range rates {
			v := e.rates[[2]string{r.ErrorType, r.Strategy}]
			if r.TotalAttempts != v[1] || math.Abs(r.SuccessRate-float64(v[0])*100/float64(v[1])) > 1e-6 {
				t.Errorf("SuccessRates(view=%v) %s/%s: %.4f of %d, want %d/%d", fromView, r.ErrorType, r.Strategy, r.SuccessRate, r.TotalAttempts, v[0], v[1])
			}
			if i > 0 && (rates[i-1].SuccessRate < r.SuccessRate || rates[i-1].SuccessRate == r.SuccessRate && rates[i-1].TotalAttempts < r.TotalAttempts) {
				t.Errorf("SuccessRates(view=%v) not ordered best first at row %d", fromView, i)
			}
		}
	}
	cells, err := s.StrategyCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != len(e.cells) {
		t.Errorf("StrategyCounts: %d cells, want %d", len(cells), len(e.cells))
	}
	for _, c := range cells {
		v := e.cells[[4]string{c.ErrorType, c.Strategy, c.Host, c.ActionKind}]
		if c.Successes != v[0] || c.Total != v[1] {
			t.Errorf("cell %+v, want %d/%d", c, v[0], v[1])
		}
	}
}

// CheckAllStored verifies every attempt is stored once, field for field.
func CheckAllStored(t *testing.T, s history.Store, as []history.Attempt) {
	t.Helper()
	bySession := map[string][]history.Attempt{}
	for _, a := range as {
		bySession[a.SessionID] = append(bySession[a.SessionID], a)
	}
	for sid, want := range bySession {
		if sid == "" {
			continue // attempts outside a session have no history query
		}
		got, err := s.SessionHistory(context.Background(), sid)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("session %s: %d attempts stored, want %d", sid, len(got), len(want))
			continue
		}
		idx := map[string]history.Attempt{}
		for _, a := range got {
			idx[a.ID] = a
		}
		for _, w := range want {
			g, ok := idx[w.ID]
			if !ok {
				t.Errorf("attempt %s missing", w.ID)
				continue
			}
			if g.ErrorType != w.ErrorType || g.Strategy != w.Strategy || g.Success != w.Success || g.RetryCount != w.RetryCount ||
				g.Host != w.Host || g.ActionKind != w.ActionKind || g.ErrorMessage != w.ErrorMessage || !g.CreatedAt.Equal(w.CreatedAt) ||
				(len(w.Context) > 0 && !jsonEqual(t, g.Context, w.Context)) {
				t.Errorf("attempt stored as %+v, want %+v", g, w)
			}
			if (w.ErrorType == "unknown") != (g.ErrorPatternID == "") {
				t.Errorf("attempt %s of type %s: pattern id %q", w.ID, w.ErrorType, g.ErrorPatternID)
			}
		}
	}
}

func sessions(t *testing.T, s history.Store, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		sess, err := s.CreateSession(context.Background(), history.Session{Name: fmt.Sprintf("s%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = sess.ID
	}
	return out
}

func testMonitoringChecklist(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	as := generate(600, sessions(t, s, 3))
	for i := 0; i < len(as); i += 128 {
		n, err := s.AppendAttempts(ctx, as[i:min(i+128, len(as))])
		if err != nil {
			t.Fatal(err)
		}
		if n != min(128, len(as)-i) {
			t.Fatalf("AppendAttempts inserted %d", n)
		}
	}
	CheckAllStored(t, s, as)
	CheckStats(t, s, as)
	// Filters.
	rates, err := s.SuccessRates(ctx, history.RateFilter{ErrorType: "timeout", Host: "shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rates {
		var ok, total int64
		for _, a := range as {
			if a.ErrorType == "timeout" && a.Host == "shop.example" && a.Strategy == r.Strategy {
				total++
				if a.Success {
					ok++
				}
			}
		}
		if r.ErrorType != "timeout" || r.TotalAttempts != total || math.Abs(r.SuccessRate-float64(ok)*100/float64(total)) > 1e-6 {
			t.Errorf("filtered rate %+v, want %d/%d", r, ok, total)
		}
	}
	if len(rates) != 3 {
		t.Errorf("filtered rates: %d rows, want 3", len(rates))
	}
}

func testReplayIsIdempotent(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	as := generate(50, []string{history.NewID(), ""}) // sessions created on the fly, and none
	if n, err := s.AppendAttempts(ctx, as[:30]); err != nil || n != 30 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	if n, err := s.AppendAttempts(ctx, as); err != nil || n != 20 {
		t.Fatalf("replay with 20 new: %d, %v", n, err)
	}
	if n, err := s.AppendAttempts(ctx, as); err != nil || n != 0 {
		t.Fatalf("full replay: %d, %v", n, err)
	}
	CheckStats(t, s, as)
	CheckAllStored(t, s, as)
}

func testConcurrentWriters(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	as := generate(2000, sessions(t, s, 4))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 100; i < len(as); i += 400 {
				if _, err := s.AppendAttempts(context.Background(), as[i:i+100]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	CheckStats(t, s, as)
}

func testBadRecords(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	good := attempt("", "timeout", "reload_page", true, "", "")
	tests := map[string]func(*history.Attempt){
		"no id":        func(a *history.Attempt) { a.ID = "" },
		"bad id":       func(a *history.Attempt) { a.ID = "42" },
		"bad session":  func(a *history.Attempt) { a.SessionID = "session-1" },
		"no type":      func(a *history.Attempt) { a.ErrorType = "" },
		"bad context":  func(a *history.Attempt) { a.Context = json.RawMessage(`{`) },
		"negative try": func(a *history.Attempt) { a.RetryCount = -1 },
	}
	for name, mutate := range tests {
		a := good
		mutate(&a)
		if _, err := s.AppendAttempts(ctx, []history.Attempt{good, a}); !errors.Is(err, history.ErrBadRecord) {
			t.Errorf("%s: err = %v, want ErrBadRecord", name, err)
		}
	}
	if rates, _ := s.SuccessRates(ctx, history.RateFilter{}); len(rates) != 0 {
		t.Errorf("a refused batch stored something: %v", rates)
	}
}

func testRecords(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	ctx := context.Background()
	el := abi.Element{Index: 3, Tag: "button", Attrs: map[string]string{"id": "buy"}, Text: "Buy now", Role: "button", Name: "Buy now",
		XPath: "/html[1]/body[1]/button[1]", Rect: abi.Rect{X: 1, Y: 2, Width: 30, Height: 10}, Visible: true, Enabled: true,
		Neighbors: abi.Neighbors{Above: "Price"}, Frame: []string{"/html[1]/body[1]/iframe[1]"}}
	if err := s.SaveFingerprint(ctx, "checkout/step-2", el); err != nil {
		t.Fatal(err)
	}
	el.Text = "Buy"
	if err := s.SaveFingerprint(ctx, "checkout/step-2", el); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fingerprint(ctx, "checkout/step-2")
	if err != nil || !reflect.DeepEqual(got, el) {
		t.Errorf("Fingerprint = %+v, %v; want %+v", got, err, el)
	}
	if _, err := s.Fingerprint(ctx, "nope"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("missing fingerprint: %v", err)
	}

	if err := s.SavePage(ctx, "https://shop.example/", "<html>v1</html>"); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePage(ctx, "https://shop.example/", "<html>v2</html>"); err != nil {
		t.Fatal(err)
	}
	p, err := s.CachedPage(ctx, "https://shop.example/")
	if err != nil || p.HTML != "<html>v2</html>" || p.SavedAt.IsZero() {
		t.Errorf("CachedPage = %+v, %v", p, err)
	}
	if _, err := s.CachedPage(ctx, "https://other.example/"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("missing page: %v", err)
	}

	at := time.Now().UTC().Truncate(time.Second)
	swaps := []history.PluginSwap{
		{PluginID: "wait", OldVersion: "1.0.0", OldSHA256: "aa", NewVersion: "1.1.0", NewSHA256: "bb", Outcome: "swapped", At: at},
		{PluginID: "wait", OldVersion: "1.1.0", OldSHA256: "bb", NewVersion: "1.2.0", NewSHA256: "cc", Outcome: "rejected", Reason: "checksum mismatch", At: at.Add(time.Second)},
		{PluginID: "vision", NewVersion: "0.1.0", NewSHA256: "dd", Outcome: "swapped", At: at},
	}
	for _, sw := range swaps {
		if err := s.RecordPluginSwap(ctx, sw); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordPluginSwap(ctx, history.PluginSwap{PluginID: "x"}); !errors.Is(err, history.ErrBadRecord) {
		t.Errorf("swap without outcome: %v", err)
	}
	gotSwaps, err := s.PluginSwaps(ctx, "wait")
	if err != nil {
		t.Fatal(err)
	}
	for i := range gotSwaps {
		gotSwaps[i].At = gotSwaps[i].At.UTC()
	}
	if want := []history.PluginSwap{swaps[1], swaps[0]}; !reflect.DeepEqual(gotSwaps, want) {
		t.Errorf("PluginSwaps = %+v, want %+v", gotSwaps, want)
	}
	if all, _ := s.PluginSwaps(ctx, ""); len(all) != 3 {
		t.Errorf("all swaps: %d", len(all))
	}
}

// Flaky wraps a store; while Down is set its writes fail with
// ErrUnavailable, as a lost connection does.
type Flaky struct {
	history.Store
	Down  atomic.Bool
	Calls atomic.Int64
}

// AppendAttempts fails while f.Down is set.
func (f *Flaky) AppendAttempts(ctx context.Context, as []history.Attempt) (int, error) {
	f.Calls.Add(1)
	if f.Down.Load() {
		return 0, fmt.Errorf("flaky: %w", history.ErrUnavailable)
	}
	return f.Store.AppendAttempts(ctx, as)
}

func recorder(t *testing.T, s history.Store, spool string, onErr func(error)) *history.Recorder {
	t.Helper()
	if onErr == nil {
		onErr = func(error) {}
	}
	r, err := history.NewRecorder(s, history.RecorderOptions{
		SpoolPath: spool, BatchSize: 64, QueueSize: 256, FlushInterval: 5 * time.Millisecond, RetryInterval: 10 * time.Millisecond, OnError: onErr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func logAll(t *testing.T, r *history.Recorder, as []history.Attempt) {
	t.Helper()
	for _, a := range as {
		if _, err := r.Log(a); err != nil {
			t.Fatal(err)
		}
	}
}

func testRecorderWritesEverything(t *testing.T, _ string, open Opener) {
	s := openStore(t, open)
	var seen atomic.Int64
	r, err := history.NewRecorder(s, history.RecorderOptions{
		SpoolPath: filepath.Join(t.TempDir(), "spool"), QueueSize: 32, BatchSize: 50,
		OnLogged: func(history.Attempt) { seen.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	as := generate(1500, sessions(t, s, 2))
	// Four loggers at once; the small queue forces spills to the spool.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(as); i += 4 {
				if _, err := r.Log(as[i]); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != int64(len(as)) {
		t.Errorf("OnLogged saw %d attempts, want %d", seen.Load(), len(as))
	}
	if _, err := r.Log(as[0]); !errors.Is(err, history.ErrClosed) {
		t.Errorf("Log after Close: %v", err)
	}
	CheckAllStored(t, s, as)
	CheckStats(t, s, as)
	// Log fills in what the caller left out.
	r2 := recorder(t, s, filepath.Join(t.TempDir(), "spool"), nil)
	a, err := r2.Log(history.Attempt{ErrorType: "timeout", Strategy: "reload_page"})
	if err != nil || !history.IsUUID(a.ID) || a.CreatedAt.IsZero() {
		t.Errorf("Log = %+v, %v", a, err)
	}
	if _, err := r2.Log(history.Attempt{}); !errors.Is(err, history.ErrBadRecord) {
		t.Errorf("Log without type: %v", err)
	}
	r2.Close(ctx)
}

func testRecorderSpoolsWhileDown(t *testing.T, _ string, open Opener) {
	s := &Flaky{Store: openStore(t, open)}
	var errs []error
	var mu sync.Mutex
	spool := filepath.Join(t.TempDir(), "spool")
	r := recorder(t, s, spool, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	as := generate(400, sessions(t, s, 2))
	logAll(t, r, as[:100])
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s.Down.Store(true)
	logAll(t, r, as[100:300])
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("Flush while down must succeed (spooled): %v", err)
	}
	if r.SpoolBytes() == 0 {
		t.Fatal("nothing spooled while the database was down")
	}
	s.Down.Store(false)
	logAll(t, r, as[300:])
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	CheckAllStored(t, s, as)
	CheckStats(t, s, as)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) == 0 || !errors.Is(errs[0], history.ErrUnavailable) {
		t.Errorf("outage not reported: %v", errs)
	}
}

// A crash after Flush loses nothing: a new recorder on the same spool
// replays what the dead one had spooled, and nothing twice.
func testRecorderSurvivesCrash(t *testing.T, _ string, open Opener) {
	store := openStore(t, open)
	spool := filepath.Join(t.TempDir(), "spool")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	as := generate(300, sessions(t, store, 1))
	// r1 loses its database after 100 attempts and then "crashes": it is
	// never closed before r2 starts, and its database never comes back, so
	// it cannot write again.
	s1 := &Flaky{Store: store}
	r1 := recorder(t, s1, spool, nil)
	logAll(t, r1, as[:100])
	if err := r1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s1.Down.Store(true)
	logAll(t, r1, as[100:])
	if err := r1.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := recorder(t, store, spool, nil)
	if err := r2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	r2.Close(ctx)
	CheckAllStored(t, store, as)
	CheckStats(t, store, as)
	r1.Close(ctx)
}

func testRecorderCorruptSpool(t *testing.T, _ string, open Opener) {
	s := &Flaky{Store: openStore(t, open)}
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	as := generate(60, sessions(t, s, 1))

	// Fill a spool with 3 batches while down, then damage the middle.
	s.Down.Store(true)
	r1 := recorder(t, s, spool, nil)
	logAll(t, r1, as[:20])
	r1.Flush(ctx)
	mid, _ := os.Stat(spool)
	logAll(t, r1, as[20:21])
	r1.Flush(ctx)
	end, _ := os.Stat(spool)
	logAll(t, r1, as[21:])
	r1.Close(ctx)
	data, err := os.ReadFile(spool)
	if err != nil {
		t.Fatal(err)
	}
	badOff := mid.Size() + 20
	data[badOff] ^= 0xff // inside attempt 20's payload: its checksum fails
	data = append(data, "HSP1\x10\x00"...)
	if err := os.WriteFile(spool, data, 0o600); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var reports []*history.SpoolCorruptError
	s.Down.Store(false)
	r2 := recorder(t, s, spool, func(err error) {
		var ce *history.SpoolCorruptError
		if errors.As(err, &ce) {
			mu.Lock()
			reports = append(reports, ce)
			mu.Unlock()
		}
	})
	if err := r2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	r2.Close(ctx)
	good := append(slices.Clone(as[:20]), as[21:]...)
	CheckAllStored(t, s, good)
	CheckStats(t, s, good)
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(reports, func(i, j int) bool { return reports[i].Offset < reports[j].Offset })
	if len(reports) != 2 {
		t.Fatalf("corruption reports: %v, want 2", reports)
	}
	if r := reports[0]; r.Path != spool || r.Offset != mid.Size() || r.Length != end.Size()-mid.Size() || !errors.Is(r, history.ErrSpoolCorrupt) {
		t.Errorf("report %v, want offset %d length %d in %s", r, mid.Size(), end.Size()-mid.Size(), spool)
	}
	q, err := os.ReadFile(reports[0].Quarantine)
	if err != nil || int64(len(q)) != reports[0].Length {
		t.Errorf("quarantine file %s: %d bytes, %v", reports[0].Quarantine, len(q), err)
	}
	if r := reports[1]; r.Offset != int64(len(data)-6) || r.Length != 6 {
		t.Errorf("torn tail report %v, want offset %d length 6", r, len(data)-6)
	}
}
