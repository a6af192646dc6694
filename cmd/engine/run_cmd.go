package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	engine "github.com/selfheal/engine"
)

func init() {
	commands["run"] = command{summary: "run a workflow file with self-healing", run: runRun}
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ef engineFlags
	ef.register(fs)
	report := fs.String("report", "", "write a JSON report to this file")
	base := fs.String("base-url", "", "base for the workflow's relative URLs")
	start := fs.String("start-url", "", "override the workflow's start URL")
	quiet := fs.Bool("quiet", false, "print only the summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: engine run [flags] FLOW.toml")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one workflow file", errBadInput)
	}
	// The workflow is checked before anything starts.
	wf, err := engine.LoadWorkflow(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	eng, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))

	rep, err := runWorkflow(ctx, eng, wf, engine.RunOptions{BaseURL: *base, StartURL: *start}, stdout, *quiet)
	if err != nil {
		if errors.Is(err, engine.ErrConfig) {
			return fmt.Errorf("%w: %w", errBadInput, err)
		}
		return err
	}
	if *report != "" {
		if err := writeReport(*report, rep); err != nil {
			return err
		}
	}
	if !rep.Passed {
		return &exitError{code: exitFailed, err: fmt.Errorf("workflow %q failed", wf.Name)}
	}
	return nil
}

// runWorkflow runs wf printing progress and a summary.
func runWorkflow(ctx context.Context, eng *engine.Engine, wf *engine.Workflow, opts engine.RunOptions, w io.Writer, quiet bool) (*engine.Report, error) {
	if !quiet {
		opts.Progress = func(ev engine.ProgressEvent) { printProgress(w, ev) }
	}
	rep, err := eng.Run(ctx, wf, opts)
	if err != nil {
		return nil, err
	}
	printSummary(w, rep)
	return rep, nil
}

func printProgress(w io.Writer, ev engine.ProgressEvent) {
	if ev.Report == nil {
		fmt.Fprintf(w, "[%d/%d] %-10s %s ...\n", ev.Index+1, ev.Total, ev.Kind, ev.Name)
		return
	}
	r := ev.Report
	for _, a := range r.Attempts {
		mark := "✗"
		if a.Success {
			mark = "✓"
		}
		strategy := a.Strategy
		if strategy == "" {
			strategy = "(no strategy left)"
		}
		msg := a.Message
		if len(msg) > 100 {
			msg = msg[:100] + "…"
		}
		fmt.Fprintf(w, "        %s %-18s → %-28s level %d %-12s %6.0f ms  %s\n", mark, a.ErrorType, strategy, a.HealingLevel, a.Outcome, a.DurationMS, msg)
	}
	status := "passed"
	if r.Healed {
		status = "healed"
	}
	if r.Status != "passed" {
		status = "FAILED: " + r.Error
	}
	fmt.Fprintf(w, "        %s (%.0f ms)\n", status, r.DurationMS)
}

func printSummary(w io.Writer, rep *engine.Report) {
	verdict := "PASSED"
	if !rep.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s %s: %d steps, %d healed, %d failed in %.1f s (session %s)\n",
		verdict, rep.Workflow, len(rep.Steps), rep.Healed, rep.Failed, rep.DurationMS/1000, rep.SessionID)
}

func writeReport(path string, rep *engine.Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

func shortURL(u string) string { return strings.TrimSuffix(u, "/") }
