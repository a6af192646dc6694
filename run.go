package engine

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/workflow"
)

// Workflow is a parsed workflow file (see LoadWorkflow).
type Workflow = workflow.Workflow

// LoadWorkflow reads and checks a workflow file; errors name the file, the
// line and the reason, and wrap workflow.ErrInvalid.
func LoadWorkflow(path string) (*Workflow, error) { return workflow.Load(path) }

// ParseWorkflow checks a workflow read from path.
func ParseWorkflow(data []byte, path string) (*Workflow, error) { return workflow.Parse(data, path) }

// RunOptions tune one run of a workflow.
type RunOptions struct {
	// BaseURL resolves relative URLs ("/v1/") of the workflow.
	BaseURL string
	// StartURL overrides the workflow's start URL (after BaseURL).
	StartURL string
	// Progress, when set, is told about each step as it starts and ends.
	Progress func(ev ProgressEvent)
	// Mirrors back the use_cached_version strategy.
	Mirrors map[string]string
}

// ProgressEvent reports a step starting (Report nil) or ending.
type ProgressEvent struct {
	Index  int
	Total  int
	Name   string
	Kind   string
	Report *StepReport
}

// Report is the result of a workflow run.
type Report struct {
	Workflow   string       `json:"workflow"`
	File       string       `json:"file"`
	SessionID  string       `json:"session_id"`
	StartURL   string       `json:"start_url"`
	Passed     bool         `json:"passed"`
	Steps      []StepReport `json:"steps"`
	Healed     int          `json:"healed"`
	Failed     int          `json:"failed"`
	DurationMS float64      `json:"duration_ms"`
	StartedAt  time.Time    `json:"started_at"`
}

// Run executes a workflow in a new browser session. A failed step ends
// the run (later steps depend on it); the report says which.
func (e *Engine) Run(ctx context.Context, wf *Workflow, opts RunOptions) (*Report, error) {
	start := time.Now()
	startURL := wf.StartURL
	if opts.StartURL != "" {
		startURL = opts.StartURL
	}
	startURL, err := resolveURL(opts.BaseURL, startURL)
	if err != nil {
		return nil, err
	}
	sess, err := e.OpenSession(ctx, SessionOptions{Name: wf.Name, Width: wf.Browser.Width, Height: wf.Browser.Height,
		Mirrors: opts.Mirrors, UserAgent: wf.Browser.UserAgent, Visible: !wf.Browser.Headless})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	rep := &Report{Workflow: wf.Name, File: wf.File, SessionID: sess.ID, StartURL: startURL, Passed: true, StartedAt: start}

	type plan struct {
		name string
		step Step
	}
	var steps []plan
	if startURL != "" {
		steps = append(steps, plan{name: "start", step: Step{Key: wf.Name + "/start",
			Action: abi.Action{Kind: abi.ActionNavigate, URL: startURL, TimeoutMS: wf.Defaults.Timeout.Milliseconds() * 2}}})
	}
	for i, st := range wf.Steps {
		act := st.Action
		if act.URL != "" && act.Kind == abi.ActionNavigate {
			if act.URL, err = resolveURL(opts.BaseURL, act.URL); err != nil {
				return nil, err
			}
		}
		name := st.Name
		if name == "" {
			name = fmt.Sprintf("step %d", i+1)
		}
		retries := st.Retries
		if retries == 0 {
			retries = -1 // the file said 0: no healing for this step
		}
		steps = append(steps, plan{name: name, step: Step{Action: act, Key: wf.Key(i), Retries: retries,
			Strategies: st.Strategies, URLPattern: st.URLPattern}})
	}
	for i, p := range steps {
		if opts.Progress != nil {
			opts.Progress(ProgressEvent{Index: i, Total: len(steps), Name: p.name, Kind: p.step.Action.Kind})
		}
		sr := sess.Do(ctx, p.step)
		if opts.Progress != nil {
			opts.Progress(ProgressEvent{Index: i, Total: len(steps), Name: p.name, Kind: p.step.Action.Kind, Report: &sr})
		}
		rep.Steps = append(rep.Steps, sr)
		if sr.Healed {
			rep.Healed++
		}
		if sr.Status != "passed" {
			rep.Passed = false
			rep.Failed++
			break
		}
		if ctx.Err() != nil {
			rep.Passed = false
			break
		}
	}
	rep.DurationMS = ms(time.Since(start))
	if err := e.recorder.Flush(context.WithoutCancel(ctx)); err != nil {
		e.log.Warn("flushing history", "error", err)
	}
	return rep, nil
}

// resolveURL makes a workflow URL absolute against base.
func resolveURL(base, ref string) (string, error) {
	if ref == "" || base == "" || !strings.HasPrefix(ref, "/") {
		if strings.HasPrefix(ref, "/") {
			return "", fmt.Errorf("%w: the workflow uses the relative URL %q; give a base URL", ErrConfig, ref)
		}
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: base URL %q: %v", ErrConfig, base, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("%w: URL %q: %v", ErrConfig, ref, err)
	}
	return b.ResolveReference(r).String(), nil
}
