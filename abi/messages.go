package abi

import (
	"encoding/json"
	"strconv"
)

// Request is what a strategy receives from ExportRun.
type Request struct {
	// Strategy names the strategy to run; a module may provide several.
	Strategy string `json:"strategy"`
	// Error is the failure being healed, as classified by the engine.
	Error ErrorInfo `json:"error"`
	// Action is the action that failed.
	Action Action `json:"action"`
	// Attempt counts healing attempts for this action, starting at 1.
	Attempt int `json:"attempt"`
	// Healing is the resolver profile active for this attempt.
	Healing HealingProfile `json:"healing"`
	// Config is the strategy's configuration: the pattern's parameters for
	// this strategy merged over the manifest's [config.STRATEGY] table.
	Config json.RawMessage `json:"config,omitempty"`
	// SessionID identifies the browser session.
	SessionID string `json:"session_id,omitempty"`
	// PageURL is the page's URL when the action failed.
	PageURL string `json:"page_url,omitempty"`
	// Tried lists strategies already tried for this action, oldest first.
	Tried []string `json:"tried,omitempty"`
	// DeadlineMS is the time this call may take, in milliseconds.
	DeadlineMS int64 `json:"deadline_ms"`
}

// ErrorInfo describes a classified failure.
type ErrorInfo struct {
	Type    string `json:"type"`             // error pattern name, e.g. "element_not_found"
	Message string `json:"message"`          // the original error text
	Signal  string `json:"signal,omitempty"` // structured signal, e.g. "net::ERR_CONNECTION_REFUSED"
}

// Action kinds.
const (
	ActionNavigate   = "navigate"
	ActionClick      = "click"
	ActionType       = "type"
	ActionPress      = "press"
	ActionHover      = "hover"
	ActionSelect     = "select"
	ActionWaitFor    = "wait_for"
	ActionAssertText = "assert_text"
	ActionAssertURL  = "assert_url"
)

// Action is one browser action of a workflow.
type Action struct {
	Kind      string  `json:"kind"`
	Target    *Target `json:"target,omitempty"`
	Value     string  `json:"value,omitempty"` // text to type, key to press, option to select, expected text
	URL       string  `json:"url,omitempty"`   // for navigate and assert_url
	TimeoutMS int64   `json:"timeout_ms,omitempty"`
}

// Target says what element a workflow means. Any combination of fields may be
// set; the resolver uses what is there.
type Target struct {
	CSS         string `json:"css,omitempty"`
	XPath       string `json:"xpath,omitempty"`
	Text        string `json:"text,omitempty"`
	Role        string `json:"role,omitempty"`
	Label       string `json:"label,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
	// Near is an anchor text; the element is searched in a region of
	// interest around it.
	Near string `json:"near,omitempty"`
	// Fingerprint is the element's record from its last successful use.
	Fingerprint *Element `json:"fingerprint,omitempty"`
}

// HealingProfile is the tolerance of target resolution at one healing level.
type HealingProfile struct {
	Level       int     `json:"level"`        // 0 strict, 1 first healing, 2+ desperate
	MinRatio    float64 `json:"min_ratio"`    // fuzzy text threshold
	PadMul      float64 `json:"pad_mul"`      // spatial padding multiplier
	ExpandRoles bool    `json:"expand_roles"` // accept role aliases
}

// Outcome is a strategy's verdict.
type Outcome string

const (
	// OutcomeRetry: conditions were changed; retry the action, optionally
	// with the overrides in Result.Retry.
	OutcomeRetry Outcome = "retry"
	// OutcomeUseElement: act on Result.Element (or Result.Point) instead of
	// the original target.
	OutcomeUseElement Outcome = "use_element"
	// OutcomeGiveUp: this strategy cannot help; the engine tries the next.
	OutcomeGiveUp Outcome = "give_up"
	// OutcomeAbort: stop healing this action; the engine reports failure.
	OutcomeAbort Outcome = "abort"
	// OutcomeDone: the strategy achieved the action's effect itself (for
	// example it loaded a cached copy of the page the navigation wanted);
	// the engine counts the action as done without repeating it.
	OutcomeDone Outcome = "done"
)

// Valid reports whether o is an outcome of this ABI version.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeRetry, OutcomeUseElement, OutcomeGiveUp, OutcomeAbort, OutcomeDone:
		return true
	}
	return false
}

// Result is what a strategy returns from ExportRun.
type Result struct {
	Outcome Outcome       `json:"outcome"`
	Message string        `json:"message,omitempty"`
	Element *Element      `json:"element,omitempty"`
	Point   *Point        `json:"point,omitempty"`
	Retry   *RetryOptions `json:"retry,omitempty"`
	// Details is free-form diagnostics recorded with the attempt.
	Details json.RawMessage `json:"details,omitempty"`
}

// RetryOptions change how the engine retries the action.
type RetryOptions struct {
	TimeoutMS int64   `json:"timeout_ms,omitempty"` // the retried action's timeout
	DelayMS   int64   `json:"delay_ms,omitempty"`   // wait this long before retrying
	Target    *Target `json:"target,omitempty"`     // retry against this target instead
}

// Description is what a module returns from ExportDescribe.
type Description struct {
	Strategies []string `json:"strategies"`
}

// Element is the record of one page element. The same shape is used in
// snapshots, stored fingerprints, the ABI and the command line.
type Element struct {
	// Index is the element's position in its snapshot.
	Index int               `json:"index"`
	Tag   string            `json:"tag"` // lower case
	Attrs map[string]string `json:"attrs,omitempty"`
	// Text is the text content with whitespace collapsed.
	Text        string `json:"text,omitempty"`
	VisibleText string `json:"visible_text,omitempty"`
	// Role and Name are the accessible role and name.
	Role string `json:"role,omitempty"`
	Name string `json:"name,omitempty"`
	// XPath is absolute, /html[1]/body[1]/...
	XPath string `json:"xpath"`
	// IDXPath is relative to the nearest ancestor with an id.
	IDXPath   string    `json:"id_xpath,omitempty"`
	Rect      Rect      `json:"rect"`
	Visible   bool      `json:"visible"`
	Enabled   bool      `json:"enabled"`
	Neighbors Neighbors `json:"neighbors"`
	// Frame is the path of frames and shadow hosts enclosing the element,
	// outermost first, each as the absolute XPath of the iframe or shadow
	// host element within its own document; empty for the top document.
	Frame []string `json:"frame,omitempty"`
}

// Rect is a box in CSS pixels relative to the top-level viewport.
type Rect struct {
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// Center returns the middle of the box.
func (r Rect) Center() Point { return Point{X: r.X + r.Width/2, Y: r.Y + r.Height/2} }

// Point is a position in CSS pixels relative to the top-level viewport.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Neighbors holds the nearest visible text in each direction.
type Neighbors struct {
	Above string `json:"above,omitempty"`
	Below string `json:"below,omitempty"`
	Left  string `json:"left,omitempty"`
	Right string `json:"right,omitempty"`
}

// Viewport is the visible area of the page.
type Viewport struct {
	Width   float64 `json:"width"`
	Height  float64 `json:"height"`
	ScrollX float64 `json:"scroll_x"`
	ScrollY float64 `json:"scroll_y"`
}

// Snapshot is a page's elements at one moment.
type Snapshot struct {
	URL      string    `json:"url"`
	Title    string    `json:"title,omitempty"`
	Viewport Viewport  `json:"viewport"`
	Elements []Element `json:"elements"`
}

// Empty is the input of host functions that take no arguments ("{}").
type Empty struct{}

// PageInfo is returned by heal_browser.page_info.
type PageInfo struct {
	URL        string `json:"url"`
	Title      string `json:"title"`
	ReadyState string `json:"ready_state,omitempty"`
}

// Query selects elements by CSS selector or XPath.
type Query struct {
	CSS   string `json:"css,omitempty"`
	XPath string `json:"xpath,omitempty"`
	Limit int    `json:"limit,omitempty"` // 0 means the host's default
}

// QueryResult is returned by heal_browser.query.
type QueryResult struct {
	Elements []Element `json:"elements"`
}

// ExistsResult is returned by heal_browser.exists; it never waits.
type ExistsResult struct {
	Count   int  `json:"count"`
	Visible bool `json:"visible"` // at least one match is visible
}

// NetworkState is returned by heal_browser.network_state.
type NetworkState struct {
	Online   bool  `json:"online"`
	Inflight int   `json:"inflight"` // requests in flight
	IdleMS   int64 `json:"idle_ms"`  // time since the last request finished
}

// ScreenshotRequest asks for a screenshot of the viewport.
type ScreenshotRequest struct {
	Scale float64 `json:"scale,omitempty"` // device scale; 0 means 1
}

// Screenshot is returned by heal_browser.screenshot.
type Screenshot struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	PNG    []byte `json:"png"` // base64 in JSON
}

// Locator addresses an element for an action: by CSS, by XPath, or by a
// point. Text is typed by heal_browser_act.type, Key pressed by press.
//
// An element inside iframes or open shadow roots is addressed by a frame
// path: the selectors of the enclosing iframe and shadow-host elements,
// outermost first, then the element's own, joined with FrameSeparator
// (" >> "), all of one kind (CSS or XPath). For a snapshot element that is
// its Frame entries followed by its XPath; see LocatorFor.
type Locator struct {
	CSS       string `json:"css,omitempty"`
	XPath     string `json:"xpath,omitempty"`
	Point     *Point `json:"point,omitempty"`
	Text      string `json:"text,omitempty"`
	Key       string `json:"key,omitempty"`
	Visible   bool   `json:"visible,omitempty"` // wait_for_selector: wait until visible
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
}

// Navigation is the input of navigate, reload, back, new_context and
// load_cached.
type Navigation struct {
	URL         string `json:"url,omitempty"`
	IgnoreCache bool   `json:"ignore_cache,omitempty"` // reload
	TimeoutMS   int64  `json:"timeout_ms,omitempty"`
}

// IdleRequest is the input of wait_network_idle.
type IdleRequest struct {
	IdleMS    int64 `json:"idle_ms,omitempty"` // quiet period; 0 means 500
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// ActResult is returned by the heal_browser_act functions.
type ActResult struct {
	OK      bool   `json:"ok"`
	URL     string `json:"url,omitempty"`    // page URL after the action
	Source  string `json:"source,omitempty"` // load_cached: "snapshot" or "mirror"
	Message string `json:"message,omitempty"`
}

// ResolveRequest asks the resolver for a target at a healing level.
type ResolveRequest struct {
	Target Target `json:"target"`
	Level  int    `json:"level"`
	Limit  int    `json:"limit,omitempty"` // candidates to return; 0 means 5
}

// Candidate is one scored element.
type Candidate struct {
	Element Element  `json:"element"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons,omitempty"`
}

// Resolution is returned by heal_resolver.resolve and candidates.
type Resolution struct {
	// Element is the chosen element; nil when nothing was good enough.
	Element    *Element          `json:"element,omitempty"`
	Score      float64           `json:"score"`
	Method     string            `json:"method,omitempty"` // css, xpath, text, role, label, fingerprint, ...
	Candidates []Candidate       `json:"candidates,omitempty"`
	Details    ResolutionDetails `json:"details"`
}

// ResolutionDetails records how tolerant a resolution was.
type ResolutionDetails struct {
	HealingAttempt     int            `json:"healing_attempt"`
	HealingProfile     HealingProfile `json:"healing_profile"`
	RoleAliasesUsed    []string       `json:"role_aliases_used,omitempty"`
	FuzzyThresholdUsed float64        `json:"fuzzy_threshold_used"`
	SpatialPaddingUsed float64        `json:"spatial_padding_used"`
	Warnings           []string       `json:"warnings,omitempty"`
}

// LocateTextRequest asks the vision service to find text on the screen.
type LocateTextRequest struct {
	Text     string  `json:"text"`
	MinRatio float64 `json:"min_ratio,omitempty"` // 0 means the active profile's
}

// TextLocation is returned by heal_vision.locate_text.
type TextLocation struct {
	Found      bool    `json:"found"`
	Point      Point   `json:"point"`
	Rect       Rect    `json:"rect"`
	Text       string  `json:"text,omitempty"` // the OCR text that matched
	Ratio      float64 `json:"ratio"`          // fuzzy match ratio
	Confidence float64 `json:"confidence"`     // OCR confidence 0..100
}

// LookupRequest is the input of heal_net.lookup_host.
type LookupRequest struct {
	Host string `json:"host"`
}

// LookupResult is returned by heal_net.lookup_host. A failed lookup is a
// result, not an error status: Error says why.
type LookupResult struct {
	Host  string   `json:"host"`
	Addrs []string `json:"addrs,omitempty"`
	Error string   `json:"error,omitempty"`
}

// FrameSeparator joins the selectors of a frame path in a Locator or Query.
const FrameSeparator = " >> "

// LocatorFor returns the locator of a snapshot element: its frame path and
// XPath joined with FrameSeparator.
func LocatorFor(e Element) Locator {
	parts := append(append([]string(nil), e.Frame...), e.XPath)
	out := parts[0]
	for _, p := range parts[1:] {
		out += FrameSeparator + p
	}
	return Locator{XPath: out}
}

// String names the target by its fields for messages, e.g.
// css="#buy" text="Buy now"; a fingerprint appears as its tag and id.
func (t *Target) String() string {
	if t == nil {
		return "(no target)"
	}
	var b []byte
	add := func(k, v string) {
		if v == "" {
			return
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, v)
	}
	add("css", t.CSS)
	add("xpath", t.XPath)
	add("text", t.Text)
	add("role", t.Role)
	add("label", t.Label)
	add("placeholder", t.Placeholder)
	add("near", t.Near)
	if fp := t.Fingerprint; fp != nil {
		name := fp.Tag
		if id := fp.Attrs["id"]; id != "" {
			name += "#" + id
		}
		add("fingerprint", name)
	}
	if len(b) == 0 {
		return "(empty target)"
	}
	return string(b)
}
