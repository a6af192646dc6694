package postgres

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/selfheal/engine/internal/history"
)

// ingestRows makes n attempts over the six patterns, their strategies and
// a few hosts, in 4 sessions.
func ingestRows(n int, sessions []string) []history.Attempt {
	kinds := []struct{ typ, strategy string }{
		{"element_not_found", "wait_longer"}, {"element_not_found", "scroll_into_view"},
		{"timeout", "retry_with_longer_timeout"}, {"security_challenge", "wait_for_manual_intervention"},
		{"page_load_failure", "retry_navigation"}, {"action_execution_failure", "wait_and_retry"},
		{"network_error", "wait_for_reconnection"}, {"unknown", "wait_and_retry"},
	}
	base := time.Now().UTC().Truncate(time.Microsecond)
	out := make([]history.Attempt, n)
	for i := range out {
		k := kinds[i%len(kinds)]
		out[i] = history.Attempt{ID: history.NewID(), SessionID: sessions[i%len(sessions)], ErrorType: k.typ,
			ErrorMessage: "error " + strconv.Itoa(i), Strategy: k.strategy, Success: (i*13)%10 < 7, RetryCount: i % 3,
			Host: fmt.Sprintf("site%d.example", i%5), ActionKind: "click", CreatedAt: base.Add(time.Duration(i) * time.Microsecond)}
	}
	return out
}

// seedInsert writes attempts the design document's way: one INSERT per
// attempt, autocommit, the per-row trigger of migration 1.
func seedInsert(ctx context.Context, s *Store, as []history.Attempt) error {
	for _, a := range as {
		_, err := s.pool.Exec(ctx, `INSERT INTO error_recovery_history
				(id, session_id, error_pattern_id, error_type, error_message, strategy_used, success, retry_count, context, created_at)
			VALUES ($1::uuid, $2::uuid, (SELECT id FROM error_patterns WHERE pattern_name = $3), $3, $4, $5, $6, $7, $8::jsonb, $9)`,
			a.ID, a.SessionID, a.ErrorType, a.ErrorMessage, a.Strategy, a.Success, a.RetryCount,
			fmt.Sprintf(`{"host":%q,"action_kind":%q}`, a.Host, a.ActionKind), a.CreatedAt)
		if err != nil {
			return err
		}
	}
	return nil
}

func batchedInsert(ctx context.Context, s *Store, as []history.Attempt, batch int) error {
	for i := 0; i < len(as); i += batch {
		if _, err := s.AppendAttempts(ctx, as[i:min(i+batch, len(as))]); err != nil {
			return err
		}
	}
	return nil
}

// compareStats fails unless both schemas hold the same statistics: pattern
// counters and rates, and the view's rows.
func compareStats(t testing.TB, seed, batched *Store) {
	t.Helper()
	ctx := context.Background()
	a, err := seed.PatternStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := batched.PatternStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("pattern rows: seed %d, batched %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].TotalAttempts != b[i].TotalAttempts || a[i].SuccessfulAttempts != b[i].SuccessfulAttempts || a[i].SuccessRate != b[i].SuccessRate {
			t.Errorf("error_patterns differ: seed %+v, batched %+v", a[i], b[i])
		}
	}
	va, err := seed.SuccessRates(ctx, history.RateFilter{FromView: true})
	if err != nil {
		t.Fatal(err)
	}
	vb, err := batched.SuccessRates(ctx, history.RateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(va) != len(vb) {
		t.Fatalf("rate rows: seed view %d, batched counters %d", len(va), len(vb))
	}
	for i := range va {
		if va[i].ErrorType != vb[i].ErrorType || va[i].Strategy != vb[i].Strategy || va[i].TotalAttempts != vb[i].TotalAttempts ||
			math.Abs(va[i].SuccessRate-vb[i].SuccessRate) > 1e-9 {
			t.Errorf("rates differ: seed %+v, batched %+v", va[i], vb[i])
		}
	}
}

func twoSchemas(t testing.TB) (seed, batched *Store, sessions []string) {
	seed, _ = openMigrated(t, 1) // the design document's schema and trigger
	batched, _ = openMigrated(t, 0)
	for range 4 {
		sess, err := seed.CreateSession(context.Background(), history.Session{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := batched.CreateSession(context.Background(), sess); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess.ID)
	}
	return seed, batched, sessions
}

// The batched write path keeps the design's statistics exactly.
func TestBatchedStatsMatchSeedDesign(t *testing.T) {
	seed, batched, sessions := twoSchemas(t)
	as := ingestRows(800, sessions)
	ctx := context.Background()
	if err := seedInsert(ctx, seed, as); err != nil {
		t.Fatal(err)
	}
	if err := batchedInsert(ctx, batched, as, 128); err != nil {
		t.Fatal(err)
	}
	compareStats(t, seed, batched)
}

// BenchmarkIngest writes the same rows both ways in one run and reports
// rows per second of each and their ratio; the statistics must agree
// afterwards. Rows: INGEST_ROWS (default 20000). Run with -benchtime=1x.
func BenchmarkIngest(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("INGEST_ROWS")); err == nil && v > 0 {
		n = v
	}
	for b.Loop() {
		seed, batched, sessions := twoSchemas(b)
		as := ingestRows(n, sessions)
		ctx := context.Background()
		start := time.Now()
		if err := seedInsert(ctx, seed, as); err != nil {
			b.Fatal(err)
		}
		seedRate := float64(n) / time.Since(start).Seconds()
		start = time.Now()
		if err := batchedInsert(ctx, batched, as, 1000); err != nil {
			b.Fatal(err)
		}
		batchedRate := float64(n) / time.Since(start).Seconds()
		compareStats(b, seed, batched)
		b.ReportMetric(seedRate, "seed-rows/s")
		b.ReportMetric(batchedRate, "batched-rows/s")
		b.ReportMetric(batchedRate/seedRate, "speedup")
	}
}
