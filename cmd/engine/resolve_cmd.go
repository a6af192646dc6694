package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/resolver"
)

func init() {
	commands["resolve"] = command{
		summary: "replay a target resolution against a stored snapshot",
		run:     runResolve,
	}
}

// runResolve: engine resolve --snapshot S.json (--fingerprint F.json |
// --target '{...}') [--level N] [--json]
func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapPath := fs.String("snapshot", "", "snapshot JSON file (required)")
	fpPath := fs.String("fingerprint", "", "element record JSON file to heal towards")
	targetJSON := fs.String("target", "", `target JSON, e.g. '{"text":"Submit","role":"button"}'`)
	level := fs.Int("level", 0, "healing level: 0 strict, 1 first healing, 2+ desperate")
	asJSON := fs.Bool("json", false, "print the resolution as JSON")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errBadInput, fs.Args())
	}
	if *snapPath == "" {
		return fmt.Errorf("%w: --snapshot is required", errBadInput)
	}
	if (*fpPath == "") == (*targetJSON == "") {
		return fmt.Errorf("%w: give exactly one of --fingerprint and --target", errBadInput)
	}
	if *level < 0 {
		return fmt.Errorf("%w: --level %d is negative", errBadInput, *level)
	}
	var snap abi.Snapshot
	if err := readJSON(*snapPath, &snap); err != nil {
		return err
	}
	var target abi.Target
	if *fpPath != "" {
		var fp abi.Element
		if err := readJSON(*fpPath, &fp); err != nil {
			return err
		}
		target.Fingerprint = &fp
	} else if err := strictJSON([]byte(*targetJSON), &target); err != nil {
		return fmt.Errorf("%w: --target: %w", errBadInput, err)
	}

	res, err := resolver.Default.ResolveProfile(&snap, target, resolver.Profile(*level), 5)
	if err != nil && !errors.Is(err, abi.ErrNotFound) {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	if *asJSON {
		out := struct {
			abi.Resolution
			Error string `json:"error,omitempty"`
		}{Resolution: res}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(out); e != nil {
			return e
		}
	} else {
		printResolution(stdout, &res, err)
	}
	if err != nil {
		return &exitError{exitNoMatch, err}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	if err := strictJSON(b, v); err != nil {
		return fmt.Errorf("%w: %s: %w", errBadInput, path, err)
	}
	return nil
}

// strictJSON decodes one JSON value and rejects trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func printResolution(w io.Writer, res *abi.Resolution, err error) {
	if res.Element != nil {
		fmt.Fprintf(w, "chosen: #%d %s\n", res.Element.Index, res.Element.XPath)
		if len(res.Element.Frame) > 0 {
			fmt.Fprintf(w, "  in frames: %v\n", res.Element.Frame)
		}
		fmt.Fprintf(w, "  %s\n  score %.3f by %s\n", resolver.Describe(res.Element), res.Score, res.Method)
	} else {
		fmt.Fprintf(w, "no match: %v\n", err)
	}
	fmt.Fprintln(w, "candidates:")
	for _, c := range res.Candidates {
		fmt.Fprintf(w, "  %.3f  #%d %s\n", c.Score, c.Element.Index, resolver.Describe(&c.Element))
		for _, r := range c.Reasons {
			fmt.Fprintf(w, "         %s\n", r)
		}
	}
	d := res.Details
	fmt.Fprintf(w, "details: healing_attempt=%d min_ratio=%.2f pad_mul=%.2f expand_roles=%v fuzzy_threshold_used=%.2f spatial_padding_used=%.2f\n",
		d.HealingAttempt, d.HealingProfile.MinRatio, d.HealingProfile.PadMul, d.HealingProfile.ExpandRoles, d.FuzzyThresholdUsed, d.SpatialPaddingUsed)
	if len(d.RoleAliasesUsed) > 0 {
		fmt.Fprintf(w, "  role_aliases_used: %v\n", d.RoleAliasesUsed)
	}
	for _, warn := range d.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}
