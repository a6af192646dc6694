// Package classify recognises browser-automation errors: it maps an error to
// an error pattern (its type) and the pattern's ordered recovery strategies.
//
// Structured signals come first: Chromium net error codes inside chromedp
// load errors ("net::ERR_CONNECTION_REFUSED"), chromedp error values
// (chromedp.ErrNotVisible) and context deadlines. Only then is the message
// matched against the patterns' regular expressions, case-insensitively, in
// order. An error nothing matches is of type Unknown and gets the configured
// default chain.
//
// The default patterns are the six of the self-healing design document,
// embedded as TOML (DefaultsTOML); Load overlays a user file on them.
package classify

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// Classification is the result of classifying one error.
type Classification struct {
	// Type is the matching pattern's name, or Unknown.
	Type string
	// Pattern is the matching pattern (the unknown chain for Unknown).
	Pattern *Pattern
	// Signal is the structured signal that decided, e.g.
	// "net::ERR_NAME_NOT_RESOLVED" or "context.DeadlineExceeded"; empty when
	// the message text decided.
	Signal string
	// Message is the error text that was classified.
	Message string
}

// Classifier maps errors to patterns. It is immutable and safe for
// concurrent use.
type Classifier struct {
	patterns []*Pattern // in match order
	byName   map[string]*Pattern
	bySignal map[string]*Pattern
	unknown  *Pattern
	filter   *prefilter
}

// Patterns returns the patterns in match order (not including Unknown).
func (c *Classifier) Patterns() []*Pattern { return append([]*Pattern(nil), c.patterns...) }

// Pattern returns the pattern of an error type; Unknown gives the default
// chain.
func (c *Classifier) Pattern(name string) (*Pattern, bool) {
	if name == Unknown {
		return c.unknown, true
	}
	p, ok := c.byName[name]
	return p, ok
}

// UnknownPattern returns the pseudo-pattern holding the default chain.
func (c *Classifier) UnknownPattern() *Pattern { return c.unknown }

// chromedpSignals lists the chromedp error values that count as signals,
// most specific first.
var chromedpSignals = []struct {
	err  error
	name string
}{
	{chromedp.ErrNotVisible, "chromedp.ErrNotVisible"},
	{chromedp.ErrNoResults, "chromedp.ErrNoResults"},
	{chromedp.ErrInvalidBoxModel, "chromedp.ErrInvalidBoxModel"},
	{chromedp.ErrDisabled, "chromedp.ErrDisabled"},
	{chromedp.ErrNotSelected, "chromedp.ErrNotSelected"},
	{chromedp.ErrInvalidTarget, "chromedp.ErrInvalidTarget"},
	{chromedp.ErrTargetDetached, "chromedp.ErrTargetDetached"},
	{chromedp.ErrPollingTimeout, "chromedp.ErrPollingTimeout"},
	{chromedp.ErrPageLoad, "chromedp.ErrPageLoad"},
}

// Signals returns the structured signals found in err, most specific first:
// a Chromium net error code, chromedp error values, then context errors.
func Signals(err error, msg string) []string {
	var out []string
	if code := netErrorCode(err, msg); code != "" {
		out = append(out, code)
	}
	if err != nil {
		for _, s := range chromedpSignals {
			if errors.Is(err, s.err) {
				out = append(out, s.name)
			}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			out = append(out, "context.DeadlineExceeded")
		}
	}
	return out
}

// netErrorCode finds "net::ERR_SOMETHING": in a chromedp load error first,
// else in the text.
func netErrorCode(err error, msg string) string {
	var le *chromedp.LoadError
	if errors.As(err, &le) {
		if c := scanNetCode(le.ErrorText); c != "" {
			return c
		}
	}
	if c := scanNetCode(msg); c != "" {
		return c
	}
	if err != nil && msg == "" {
		return scanNetCode(err.Error())
	}
	return ""
}

func scanNetCode(s string) string {
	i := strings.Index(s, "net::ERR_")
	if i < 0 {
		return ""
	}
	j := i + len("net::ERR_")
	for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	return s[i:j]
}

// Classify maps an error to a pattern. msg is the text to match; when empty,
// err.Error() is used. Either may be empty, not both (that gives Unknown).
func (c *Classifier) Classify(err error, msg string) Classification {
	if msg == "" && err != nil {
		msg = err.Error()
	}
	if err != nil || strings.Contains(msg, "net::ERR_") {
		for _, s := range Signals(err, msg) {
			if p, ok := c.bySignal[s]; ok {
				return Classification{Type: p.name, Pattern: p, Signal: s, Message: msg}
			}
		}
	}
	if p := c.match(msg); p != nil {
		return Classification{Type: p.name, Pattern: p, Message: msg}
	}
	return Classification{Type: Unknown, Pattern: c.unknown, Message: msg}
}

// ClassifyMessage classifies a bare message.
func (c *Classifier) ClassifyMessage(msg string) Classification { return c.Classify(nil, msg) }

var candidatePool = sync.Pool{New: func() any { return new([]uint64) }}

// match returns the first pattern, in order, whose expression matches msg.
// The prefilter narrows the patterns to those whose required literals occur
// in msg, so that a thousand patterns cost little more than a few.
func (c *Classifier) match(msg string) *Pattern {
	bp := candidatePool.Get().(*[]uint64)
	defer candidatePool.Put(bp)
	bits := c.filter.candidates(msg, *bp)
	*bp = bits
	for w, word := range bits {
		for word != 0 {
			i := w*64 + trailingZeros(word)
			word &= word - 1
			if p := c.patterns[i]; p.matches(msg) {
				return p
			}
		}
	}
	return nil
}
