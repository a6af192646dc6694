// Package workflow reads workflow files: a start URL, browser options and
// a list of steps, each an action on a target. A file is checked
// completely before any browser starts; errors name the file, the line and
// the reason.
package workflow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/selfheal/engine/abi"
)

// ErrInvalid is wrapped by every error about a workflow's content.
var ErrInvalid = errors.New("invalid workflow")

// Error is a problem in a workflow file.
type Error struct {
	File   string
	Line   int // 0 when unknown
	Reason string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

// Unwrap makes every Error match ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Workflow is a parsed, validated workflow. Treat it as read-only.
type Workflow struct {
	Name     string
	StartURL string
	Browser  Browser
	Defaults Defaults
	Steps    []Step
	File     string
}

// Browser holds browser options.
type Browser struct {
	Width, Height int
	Headless      bool
	UserAgent     string
}

// Defaults apply to every step that does not say otherwise.
type Defaults struct {
	Timeout time.Duration
	Retries int
}

// Step is one action.
type Step struct {
	Name   string
	Action abi.Action
	// URLPattern is assert_url's regular expression, when given.
	URLPattern *regexp.Regexp
	Timeout    time.Duration
	Retries    int
	// Strategies overrides strategy selection with a fixed order.
	Strategies []string
	Line       int
}

// Key identifies the step across runs, for fingerprints and learning.
func (w *Workflow) Key(i int) string {
	name := w.Steps[i].Name
	if name == "" {
		name = fmt.Sprintf("step-%d", i+1)
	}
	return w.Name + "/" + name
}

type fileBrowser struct {
	Viewport  string `toml:"viewport"`
	Headless  *bool  `toml:"headless"`
	UserAgent string `toml:"user_agent"`
}

type fileDefaults struct {
	Timeout string `toml:"timeout"`
	Retries *int   `toml:"retries"`
}

type fileTarget struct {
	CSS         string `toml:"css"`
	XPath       string `toml:"xpath"`
	Text        string `toml:"text"`
	Role        string `toml:"role"`
	Label       string `toml:"label"`
	Placeholder string `toml:"placeholder"`
	Near        string `toml:"near"`
}

type fileStep struct {
	Name       string      `toml:"name"`
	Action     string      `toml:"action"`
	Target     *fileTarget `toml:"target"`
	Value      string      `toml:"value"`
	URL        string      `toml:"url"`
	URLPattern string      `toml:"url_pattern"`
	Timeout    string      `toml:"timeout"`
	Retries    *int        `toml:"retries"`
	Strategies []string    `toml:"strategies"`
}

type file struct {
	Name     string       `toml:"name"`
	StartURL string       `toml:"start_url"`
	Browser  fileBrowser  `toml:"browser"`
	Defaults fileDefaults `toml:"defaults"`
	Steps    []fileStep   `toml:"steps"`
}

// Load reads and validates a workflow file.
func Load(path string) (*Workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("workflow: %w", err)
	}
	return Parse(data, path)
}

// Limits that keep a hostile file from exhausting memory.
const (
	maxSteps   = 10_000
	maxRetries = 20
	maxTimeout = time.Hour
)

// Parse validates a workflow read from path.
func Parse(data []byte, path string) (*Workflow, error) {
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Line: pe.Position.Line, Reason: pe.Message}
		}
		return nil, &Error{File: path, Reason: err.Error()}
	}
	lines := indexLines(data)
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return nil, &Error{File: path, Line: lines.keyLine(und[0][len(und[0])-1], 0), Reason: fmt.Sprintf("unknown key %q", key)}
	}
	w := &Workflow{Name: f.Name, StartURL: f.StartURL, File: path,
		Browser:  Browser{Width: 1280, Height: 800, Headless: true, UserAgent: f.Browser.UserAgent},
		Defaults: Defaults{Timeout: 5 * time.Second, Retries: 3}}
	bad := func(line int, format string, args ...any) error {
		return &Error{File: path, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(w.Name) == "" {
		return nil, bad(lines.keyLine("name", 0), "name is required")
	}
	if w.StartURL != "" {
		if err := checkURL(w.StartURL); err != nil {
			return nil, bad(lines.keyLine("start_url", 0), "start_url: %v", err)
		}
	}
	if f.Browser.Headless != nil {
		w.Browser.Headless = *f.Browser.Headless
	}
	if v := f.Browser.Viewport; v != "" {
		if _, err := fmt.Sscanf(v, "%dx%d", &w.Browser.Width, &w.Browser.Height); err != nil ||
			w.Browser.Width < 100 || w.Browser.Height < 100 || w.Browser.Width > 10000 || w.Browser.Height > 10000 {
			return nil, bad(lines.keyLine("viewport", 0), "viewport %q: want WIDTHxHEIGHT between 100 and 10000", v)
		}
	}
	if f.Defaults.Timeout != "" {
		d, err := parseTimeout(f.Defaults.Timeout)
		if err != nil {
			return nil, bad(lines.keyLine("timeout", 0), "defaults.timeout: %v", err)
		}
		w.Defaults.Timeout = d
	}
	if f.Defaults.Retries != nil {
		if *f.Defaults.Retries < 0 || *f.Defaults.Retries > maxRetries {
			return nil, bad(lines.keyLine("retries", 0), "defaults.retries %d: want 0..%d", *f.Defaults.Retries, maxRetries)
		}
		w.Defaults.Retries = *f.Defaults.Retries
	}
	if len(f.Steps) == 0 {
		return nil, bad(0, "no steps: add at least one [[steps]] table")
	}
	if len(f.Steps) > maxSteps {
		return nil, bad(0, "%d steps: at most %d", len(f.Steps), maxSteps)
	}
	names := map[string]int{}
	for i, fs := range f.Steps {
		line := lines.stepLine(i)
		st, err := parseStep(fs, w.Defaults, func(key string) int { return lines.keyLine(key, line) })
		if err != nil {
			l := line
			var le *lineError
			if errors.As(err, &le) {
				l = le.line
			}
			return nil, bad(l, "step %d (%s): %v", i+1, stepLabel(fs), err)
		}
		st.Line = line
		if st.Name != "" {
			if prev, dup := names[st.Name]; dup {
				return nil, bad(line, "step %d: name %q already used by step %d", i+1, st.Name, prev)
			}
			names[st.Name] = i + 1
		}
		w.Steps = append(w.Steps, st)
	}
	if w.StartURL == "" && w.Steps[0].Action.Kind != abi.ActionNavigate {
		return nil, bad(lines.stepLine(0), "no start_url and step 1 is not navigate")
	}
	return w, nil
}

type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }

func stepLabel(fs fileStep) string {
	if fs.Name != "" {
		return fs.Name
	}
	if fs.Action != "" {
		return fs.Action
	}
	return "unnamed"
}

var kinds = map[string]struct{ target, value, url bool }{
	abi.ActionNavigate:   {url: true},
	abi.ActionClick:      {target: true},
	abi.ActionType:       {target: true, value: true},
	abi.ActionPress:      {value: true},
	abi.ActionHover:      {target: true},
	abi.ActionSelect:     {target: true, value: true},
	abi.ActionWaitFor:    {target: true},
	abi.ActionAssertText: {value: true},
	abi.ActionAssertURL:  {},
}

func parseStep(fs fileStep, def Defaults, keyLine func(string) int) (Step, error) {
	at := func(key string, format string, args ...any) error {
		return &lineError{line: keyLine(key), err: fmt.Errorf(format, args...)}
	}
	need, ok := kinds[fs.Action]
	if !ok {
		if fs.Action == "" {
			return Step{}, at("action", "action is required")
		}
		return Step{}, at("action", "unknown action %q (want navigate, click, type, press, hover, select, wait_for, assert_text or assert_url)", fs.Action)
	}
	st := Step{Name: fs.Name, Timeout: def.Timeout, Retries: def.Retries, Strategies: fs.Strategies,
		Action: abi.Action{Kind: fs.Action, Value: fs.Value, URL: fs.URL}}
	if fs.Target != nil {
		ft := fs.Target
		t := abi.Target{CSS: ft.CSS, XPath: ft.XPath, Text: ft.Text, Role: ft.Role, Label: ft.Label,
			Placeholder: ft.Placeholder, Near: ft.Near}
		if *ft == (fileTarget{}) {
			return Step{}, at("target", "target is empty")
		}
		st.Action.Target = &t
	}
	if need.target && st.Action.Target == nil {
		return Step{}, at("action", "%s needs a target (css, xpath, text, role, label, placeholder or near)", fs.Action)
	}
	if need.value && fs.Value == "" {
		return Step{}, at("action", "%s needs a value", fs.Action)
	}
	if need.url || (fs.Action == abi.ActionNavigate) {
		if fs.URL == "" {
			return Step{}, at("action", "navigate needs a url")
		}
	}
	if fs.URL != "" && fs.Action == abi.ActionNavigate {
		if err := checkURL(fs.URL); err != nil {
			return Step{}, at("url", "url: %v", err)
		}
	}
	if fs.Action == abi.ActionAssertURL {
		if fs.URL == "" && fs.URLPattern == "" {
			return Step{}, at("action", "assert_url needs url (a substring) or url_pattern (a regular expression)")
		}
	}
	if fs.URLPattern != "" {
		if fs.Action != abi.ActionAssertURL {
			return Step{}, at("url_pattern", "url_pattern only applies to assert_url")
		}
		re, err := regexp.Compile(fs.URLPattern)
		if err != nil {
			return Step{}, at("url_pattern", "url_pattern %q: %v", fs.URLPattern, err)
		}
		st.URLPattern = re
	}
	if fs.Timeout != "" {
		d, err := parseTimeout(fs.Timeout)
		if err != nil {
			return Step{}, at("timeout", "timeout: %v", err)
		}
		st.Timeout = d
	}
	st.Action.TimeoutMS = st.Timeout.Milliseconds()
	if fs.Retries != nil {
		if *fs.Retries < 0 || *fs.Retries > maxRetries {
			return Step{}, at("retries", "retries %d: want 0..%d", *fs.Retries, maxRetries)
		}
		st.Retries = *fs.Retries
	}
	for _, s := range fs.Strategies {
		if !validName(s) {
			return Step{}, at("strategies", "strategy name %q: want lower-case letters, digits and _", s)
		}
	}
	return st, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"5s\" or \"500ms\"", s)
	}
	if d <= 0 || d > maxTimeout {
		return 0, fmt.Errorf("%q: want more than 0 and at most %v", s, maxTimeout)
	}
	return d, nil
}

// checkURL accepts absolute URLs and paths starting with "/", which are
// resolved against the run's base URL.
func checkURL(s string) error {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		_, err := url.Parse(s)
		return err
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "http", "https", "file", "about", "data":
	default:
		return fmt.Errorf("%q: scheme must be http, https, file, about or data", s)
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// lineIndex finds the lines of step headers and keys, since the TOML
// decoder reports positions only for syntax errors.
type lineIndex struct {
	lines []string
	steps []int // line numbers of [[steps]] headers
}

func indexLines(data []byte) lineIndex {
	var li lineIndex
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		li.lines = append(li.lines, line)
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[[") && strings.Trim(strings.TrimSpace(strings.Trim(t, "[]")), " ") == "steps" {
			li.steps = append(li.steps, n)
		}
	}
	return li
}

func (li lineIndex) stepLine(i int) int {
	if i < len(li.steps) {
		return li.steps[i]
	}
	return 0
}

// keyLine finds the first line at or after from that assigns key; it
// returns from when the key is not found.
func (li lineIndex) keyLine(key string, from int) int {
	start := from
	if start < 1 {
		start = 1
	}
	for n := start; n <= len(li.lines); n++ {
		t := strings.TrimSpace(li.lines[n-1])
		if n > start && from > 0 && strings.HasPrefix(t, "[[") {
			break
		}
		if strings.HasPrefix(t, key) {
			rest := strings.TrimSpace(t[len(key):])
			if strings.HasPrefix(rest, "=") {
				return n
			}
		}
		if strings.Contains(t, key+" =") || strings.Contains(t, key+"=") {
			return n
		}
	}
	return from
}
