package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/store"
)

func init() {
	commands["migrate"] = command{summary: "create or upgrade the history database", run: runMigrate}
	commands["stats"] = command{summary: "print recovery success rates by error type and strategy", run: runStats}
	commands["history"] = command{summary: "print one session's recovery attempts", run: runHistory}
}

const dbUsage = "history database: postgres://... or a SQLite file (default $DATABASE_URL, else the SQLite file under the state directory)"

func parseHistoryFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errBadInput, fs.Args())
	}
	return nil
}

// redact hides a password in a database URL.

// runMigrate: engine migrate [--db DSN]
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	db := fs.String("db", "", dbUsage)
	if err := parseHistoryFlags(fs, args, stderr); err != nil {
		return err
	}
	dsn, err := store.Resolve(*db)
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	before, err := s.Version(ctx)
	if err != nil {
		return err
	}
	after, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	kind := "sqlite"
	if store.IsPostgres(dsn) {
		kind = "postgres"
	}
	if before == after {
		fmt.Fprintf(stdout, "%s %s: schema version %d (up to date)\n", kind, store.Redact(dsn), after)
	} else {
		fmt.Fprintf(stdout, "%s %s: schema version %d (migrated from %d)\n", kind, store.Redact(dsn), after, before)
	}
	return nil
}

// openForReading opens the store and refuses an unmigrated database with a
// hint, rather than failing on a missing table.
func openForReading(ctx context.Context, db string) (history.Store, error) {
	s, err := store.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	v, err := s.Version(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	if v == 0 {
		s.Close()
		dsn, _ := store.Resolve(db)
		return nil, fmt.Errorf("%w: %s has no history schema; run engine migrate", errBadInput, store.Redact(dsn))
	}
	return s, nil
}

type rateJSON struct {
	ErrorType     string  `json:"error_type"`
	StrategyUsed  *string `json:"strategy_used"`
	SuccessRate   float64 `json:"success_rate"`
	TotalAttempts int64   `json:"total_attempts"`
}

// runStats: engine stats [--db DSN] [--json] [--type T] [--host H] [--view]
func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	db := fs.String("db", "", dbUsage)
	asJSON := fs.Bool("json", false, "print JSON")
	errType := fs.String("type", "", "only this error type")
	host := fs.String("host", "", "only attempts on this host")
	kind := fs.String("action", "", "only attempts of this action kind")
	fromView := fs.Bool("view", false, "read the recovery_success_rates view (scans all history) instead of the counter table")
	if err := parseHistoryFlags(fs, args, stderr); err != nil {
		return err
	}
	if *fromView && (*host != "" || *kind != "") {
		return fmt.Errorf("%w: --view cannot filter by --host or --action", errBadInput)
	}
	s, err := openForReading(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	rates, err := s.SuccessRates(ctx, history.RateFilter{ErrorType: *errType, Host: *host, ActionKind: *kind, FromView: *fromView})
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]rateJSON, len(rates))
		for i, r := range rates {
			out[i] = rateJSON{ErrorType: r.ErrorType, SuccessRate: round2dp(r.SuccessRate), TotalAttempts: r.TotalAttempts}
			if r.Strategy != "" {
				out[i].StrategyUsed = &rates[i].Strategy
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	rows := make([][]string, len(rates))
	for i, r := range rates {
		strategy := r.Strategy
		if strategy == "" {
			strategy = "(none left)"
		}
		rows[i] = []string{r.ErrorType, strategy, fmt.Sprintf("%.2f", r.SuccessRate), strconv.FormatInt(r.TotalAttempts, 10)}
	}
	printRateTable(stdout, []string{"error_type", "strategy_used", "success_rate", "total_attempts"}, rows)
	return nil
}

func round2dp(f float64) float64 {
	v, _ := strconv.ParseFloat(fmt.Sprintf("%.2f", f), 64)
	return v
}

// printTable prints rows as psql does: columns separated by " | ", a dashed
// rule under the header.
func printRateTable(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" | ")
			}
			if i == len(cells)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(header)
	rule := make([]string, len(header))
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
	}
	fmt.Fprintln(w, strings.Join(rule, "-|-"))
	for _, r := range rows {
		line(r)
	}
}

type attemptJSON struct {
	ID           string          `json:"id"`
	CreatedAt    time.Time       `json:"created_at"`
	ErrorType    string          `json:"error_type"`
	ErrorMessage string          `json:"error_message"`
	StrategyUsed *string         `json:"strategy_used"`
	Success      bool            `json:"success"`
	RetryCount   int             `json:"retry_count"`
	Host         string          `json:"host,omitempty"`
	ActionKind   string          `json:"action_kind,omitempty"`
	Context      json.RawMessage `json:"context,omitempty"`
}

// runHistory: engine history --session ID [--db DSN] [--json]
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("history", flag.ContinueOnError)
	db := fs.String("db", "", dbUsage)
	session := fs.String("session", "", "session ID (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseHistoryFlags(fs, args, stderr); err != nil {
		return err
	}
	if *session == "" {
		return fmt.Errorf("%w: --session is required", errBadInput)
	}
	if !history.IsUUID(*session) {
		return fmt.Errorf("%w: --session %q is not a session ID (a UUID)", errBadInput, *session)
	}
	s, err := openForReading(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Session(ctx, *session); err != nil {
		if errors.Is(err, history.ErrNotFound) {
			return fmt.Errorf("%w: no session %s", errBadInput, *session)
		}
		return err
	}
	as, err := s.SessionHistory(ctx, *session)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]attemptJSON, len(as))
		for i, a := range as {
			out[i] = attemptJSON{ID: a.ID, CreatedAt: a.CreatedAt.UTC(), ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage,
				Success: a.Success, RetryCount: a.RetryCount, Host: a.Host, ActionKind: a.ActionKind, Context: a.Context}
			if a.Strategy != "" {
				out[i].StrategyUsed = &as[i].Strategy
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tERROR TYPE\tSTRATEGY\tRESULT\tRETRY\tHOST\tMESSAGE")
	for _, a := range as {
		strategy, result := a.Strategy, "failed"
		if strategy == "" {
			strategy = "(none left)"
		}
		if a.Success {
			result = "recovered"
		}
		msg := a.ErrorMessage
		if len(msg) > 80 {
			msg = msg[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", a.CreatedAt.UTC().Format("2006-01-02 15:04:05.000"), a.ErrorType, strategy,
			result, a.RetryCount, a.Host, strings.ReplaceAll(msg, "\n", " "))
	}
	return tw.Flush()
}
