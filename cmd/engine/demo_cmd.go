package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/examples/site"
)

func init() {
	commands["demo"] = command{summary: "serve the bundled shop and heal its workflow from v1 to v2", run: runDemo}
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ef engineFlags
	ef.register(fs)
	flow := fs.String("workflow", "examples/workflows/shop.toml", "the workflow to run")
	report := fs.String("report", "", "write the v2 run's JSON report to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	wf, err := engine.LoadWorkflow(*flow)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: site.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	eng, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(stdout, "demo shop at %s, history in %s\n", base, eng.Store())
	for _, p := range eng.Plugins() {
		fmt.Fprintf(stdout, "plugin %s %s: %d strategies\n", p.ID, p.Version, len(p.Strategies))
	}

	fmt.Fprintf(stdout, "\n== run 1: %s against /v1/, where it was written\n", wf.Name)
	rep1, err := runWorkflow(ctx, eng, wf, engine.RunOptions{BaseURL: base, StartURL: "/v1/"}, stdout, false)
	if err != nil {
		return err
	}
	if !rep1.Passed {
		return &exitError{code: exitFailed, err: fmt.Errorf("the workflow fails on v1, the page it was written for")}
	}

	fmt.Fprintf(stdout, "\n== run 2: the same workflow against /v2/: ids, texts, layout and timing changed, a banner covers the form\n")
	rep2, err := runWorkflow(ctx, eng, wf, engine.RunOptions{BaseURL: base, StartURL: "/v2/"}, stdout, false)
	if err != nil {
		return err
	}
	if *report != "" {
		if err := writeReport(*report, rep2); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, "\n== healing report (session %s)\n", rep2.SessionID)
	for _, s := range rep2.Steps {
		if !s.Healed && s.Status == "passed" {
			continue
		}
		fmt.Fprintf(stdout, "%-14s %-8s", s.Key, s.Status)
		if s.Element != nil {
			fmt.Fprintf(stdout, " acted on %s", s.Element.XPath)
		}
		fmt.Fprintln(stdout)
		for _, a := range s.Attempts {
			fmt.Fprintf(stdout, "    %-24s %-26s level %d → %s\n", a.ErrorType, a.Strategy, a.HealingLevel, a.Outcome)
		}
	}
	fmt.Fprintln(stdout, "\n== learned success rates (engine stats)")
	rates, err := eng.Stats(ctx, "")
	if err != nil {
		return err
	}
	printRates(stdout, rates)
	if !rep2.Passed {
		return &exitError{code: exitFailed, err: fmt.Errorf("the workflow did not heal on v2")}
	}
	return nil
}

func printRates(w io.Writer, rates []engine.SuccessRate) {
	fmt.Fprintf(w, "%-26s | %-28s | %-12s | %s\n", "error_type", "strategy_used", "success_rate", "total_attempts")
	fmt.Fprintf(w, "%s|%s|%s|%s\n", dashes(27), dashes(30), dashes(14), dashes(15))
	for _, r := range rates {
		s := r.Strategy
		if s == "" {
			s = "(none left)"
		}
		fmt.Fprintf(w, "%-26s | %-28s | %12.2f | %d\n", r.ErrorType, s, r.SuccessRate, r.TotalAttempts)
	}
}

func dashes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}
