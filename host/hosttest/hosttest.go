// Package hosttest provides fake services for testing code that runs plugins
// through package host, in the manner of net/http/httptest: a FakeBrowser,
// FakeResolver, FakeVision and FakeNet that record every call and return
// programmable results. All fakes are safe for concurrent use.
package hosttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
)

// Call is one recorded call to a fake: the method name (as in the Go
// interface, e.g. "ScrollIntoView") and its argument (nil for none).
type Call struct {
	Method string
	Arg    any
}

// Handler overrides one method of a fake. It receives the method's
// argument (nil for none) and returns its result, which must be of the
// method's result type (or nil with an error).
type Handler func(ctx context.Context, arg any) (any, error)

// recorder is the shared core of every fake.
type recorder struct {
	mu       sync.Mutex
	calls    []Call
	errs     map[string]error
	handlers map[string]Handler
}

func (r *recorder) record(method string, arg any) (Handler, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Method: method, Arg: arg})
	return r.handlers[method], r.errs[method]
}

// Calls returns every recorded call, oldest first.
func (r *recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// CallsTo returns the recorded calls of one method.
func (r *recorder) CallsTo(method string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (r *recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// SetError makes method return err (nil restores normal behaviour).
func (r *recorder) SetError(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errs == nil {
		r.errs = map[string]error{}
	}
	if err == nil {
		delete(r.errs, method)
		return
	}
	r.errs[method] = err
}

// Handle replaces method's behaviour with h (nil restores it).
func (r *recorder) Handle(method string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handlers == nil {
		r.handlers = map[string]Handler{}
	}
	if h == nil {
		delete(r.handlers, method)
		return
	}
	r.handlers[method] = h
}

// serve runs a method: recorded, then an injected error, a handler, or the
// default behaviour.
func serve[T any](r *recorder, ctx context.Context, method string, arg any, def func() (T, error)) (T, error) {
	h, err := r.record(method, arg)
	var zero T
	if err != nil {
		return zero, err
	}
	if h != nil {
		out, err := h(ctx, arg)
		if err != nil {
			return zero, err
		}
		v, ok := out.(T)
		if !ok && out != nil {
			return zero, fmt.Errorf("hosttest: handler for %s returned %T, want %T", method, out, zero)
		}
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	return def()
}

// FakeBrowser is an in-memory page. Queries match Elements by a simple CSS
// compound selector (tag, #id, .class, [attr=value]) or by XPath equality;
// actions succeed on a matching element (not_found otherwise) and are
// recorded.
type FakeBrowser struct {
	recorder
	state sync.Mutex
	// Page is what PageInfo returns; Navigate and NewContext change its URL.
	Page abi.PageInfo
	// Elements are the page's elements.
	Elements []abi.Element
	// Network is what NetworkState returns.
	Network abi.NetworkState
	// Shot is what Screenshot returns.
	Shot abi.Screenshot
	// Viewport is part of Snapshot.
	Viewport abi.Viewport
}

// NewBrowser returns a browser showing an empty page at url.
func NewBrowser(url string, elements ...abi.Element) *FakeBrowser {
	return &FakeBrowser{
		Page:     abi.PageInfo{URL: url, Title: "", ReadyState: "complete"},
		Elements: elements,
		Network:  abi.NetworkState{Online: true, IdleMS: 1000},
		Viewport: abi.Viewport{Width: 1280, Height: 800},
	}
}

func (b *FakeBrowser) match(css, xpath string) []abi.Element {
	b.state.Lock()
	defer b.state.Unlock()
	var out []abi.Element
	for _, e := range b.Elements {
		if (xpath != "" && e.XPath == xpath) || (css != "" && MatchCSS(css, e)) {
			out = append(out, e)
		}
	}
	return out
}

func (b *FakeBrowser) PageInfo(ctx context.Context) (abi.PageInfo, error) {
	return serve(&b.recorder, ctx, "PageInfo", nil, func() (abi.PageInfo, error) {
		b.state.Lock()
		defer b.state.Unlock()
		return b.Page, nil
	})
}

func (b *FakeBrowser) Query(ctx context.Context, q abi.Query) ([]abi.Element, error) {
	return serve(&b.recorder, ctx, "Query", q, func() ([]abi.Element, error) {
		els := b.match(q.CSS, q.XPath)
		if q.Limit > 0 && len(els) > q.Limit {
			els = els[:q.Limit]
		}
		return els, nil
	})
}

func (b *FakeBrowser) Exists(ctx context.Context, q abi.Query) (abi.ExistsResult, error) {
	return serve(&b.recorder, ctx, "Exists", q, func() (abi.ExistsResult, error) {
		els := b.match(q.CSS, q.XPath)
		res := abi.ExistsResult{Count: len(els)}
		for _, e := range els {
			res.Visible = res.Visible || e.Visible
		}
		return res, nil
	})
}

func (b *FakeBrowser) Snapshot(ctx context.Context) (abi.Snapshot, error) {
	return serve(&b.recorder, ctx, "Snapshot", nil, func() (abi.Snapshot, error) {
		b.state.Lock()
		defer b.state.Unlock()
		return abi.Snapshot{URL: b.Page.URL, Title: b.Page.Title, Viewport: b.Viewport, Elements: slices.Clone(b.Elements)}, nil
	})
}

func (b *FakeBrowser) NetworkState(ctx context.Context) (abi.NetworkState, error) {
	return serve(&b.recorder, ctx, "NetworkState", nil, func() (abi.NetworkState, error) {
		b.state.Lock()
		defer b.state.Unlock()
		return b.Network, nil
	})
}

func (b *FakeBrowser) Screenshot(ctx context.Context, r abi.ScreenshotRequest) (abi.Screenshot, error) {
	return serve(&b.recorder, ctx, "Screenshot", r, func() (abi.Screenshot, error) {
		b.state.Lock()
		defer b.state.Unlock()
		return b.Shot, nil
	})
}

// onElement is the default of element actions: ok when the locator matches
// an element (or is a point), not_found otherwise.
func (b *FakeBrowser) onElement(method string, l abi.Locator) func() (abi.ActResult, error) {
	return func() (abi.ActResult, error) {
		if l.Point == nil && len(b.match(l.CSS, l.XPath)) == 0 {
			if l.CSS == "" && l.XPath == "" && method == "Press" {
				return b.ok(), nil // a key press on the page itself
			}
			return abi.ActResult{}, fmt.Errorf("%s: no element matches css %q xpath %q: %w", method, l.CSS, l.XPath, abi.ErrNotFound)
		}
		return b.ok(), nil
	}
}

func (b *FakeBrowser) ok() abi.ActResult {
	b.state.Lock()
	defer b.state.Unlock()
	return abi.ActResult{OK: true, URL: b.Page.URL}
}

func (b *FakeBrowser) Click(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Click", l, b.onElement("Click", l))
}

func (b *FakeBrowser) Type(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Type", l, b.onElement("Type", l))
}

func (b *FakeBrowser) Press(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Press", l, b.onElement("Press", l))
}

func (b *FakeBrowser) Hover(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Hover", l, b.onElement("Hover", l))
}

func (b *FakeBrowser) ScrollIntoView(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "ScrollIntoView", l, b.onElement("ScrollIntoView", l))
}

func (b *FakeBrowser) WaitForSelector(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "WaitForSelector", l, func() (abi.ActResult, error) {
		for _, e := range b.match(l.CSS, l.XPath) {
			if !l.Visible || e.Visible {
				return b.ok(), nil
			}
		}
		return abi.ActResult{}, fmt.Errorf("WaitForSelector: css %q xpath %q: %w", l.CSS, l.XPath, abi.ErrNotFound)
	})
}

func (b *FakeBrowser) navigateTo(url string) abi.ActResult {
	b.state.Lock()
	defer b.state.Unlock()
	if url != "" {
		b.Page.URL = url
	}
	return abi.ActResult{OK: true, URL: b.Page.URL}
}

func (b *FakeBrowser) Navigate(ctx context.Context, n abi.Navigation) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Navigate", n, func() (abi.ActResult, error) {
		if n.URL == "" {
			return abi.ActResult{}, fmt.Errorf("Navigate: empty url: %w", abi.ErrBadRequest)
		}
		return b.navigateTo(n.URL), nil
	})
}

func (b *FakeBrowser) Reload(ctx context.Context, n abi.Navigation) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Reload", n, func() (abi.ActResult, error) { return b.navigateTo(""), nil })
}

func (b *FakeBrowser) Back(ctx context.Context, n abi.Navigation) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "Back", n, func() (abi.ActResult, error) { return b.navigateTo(""), nil })
}

func (b *FakeBrowser) NewContext(ctx context.Context, n abi.Navigation) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "NewContext", n, func() (abi.ActResult, error) { return b.navigateTo(n.URL), nil })
}

func (b *FakeBrowser) LoadCached(ctx context.Context, n abi.Navigation) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "LoadCached", n, func() (abi.ActResult, error) {
		r := b.navigateTo(n.URL)
		r.Source = "snapshot"
		return r, nil
	})
}

func (b *FakeBrowser) WaitNetworkIdle(ctx context.Context, r abi.IdleRequest) (abi.ActResult, error) {
	return serve(&b.recorder, ctx, "WaitNetworkIdle", r, func() (abi.ActResult, error) { return b.ok(), nil })
}

// MatchCSS reports whether a simple compound selector (tag, #id, .class and
// [attr=value] parts, e.g. `button.primary[data-test="buy"]`) matches e.
// Anything more complex never matches.
func MatchCSS(sel string, e abi.Element) bool {
	sel = strings.TrimSpace(sel)
	if sel == "" || strings.ContainsAny(sel, " >+~,:") {
		return false
	}
	i := 0
	readName := func() string {
		j := i
		for j < len(sel) && !strings.ContainsRune("#.[", rune(sel[j])) {
			j++
		}
		s := sel[i:j]
		i = j
		return s
	}
	if tag := readName(); tag != "" && tag != "*" && !strings.EqualFold(tag, e.Tag) {
		return false
	}
	for i < len(sel) {
		c := sel[i]
		i++
		switch c {
		case '#':
			if e.Attrs["id"] != readName() {
				return false
			}
		case '.':
			if !slices.Contains(strings.Fields(e.Attrs["class"]), readName()) {
				return false
			}
		case '[':
			end := strings.IndexByte(sel[i:], ']')
			if end < 0 {
				return false
			}
			k, v, hasV := strings.Cut(sel[i:i+end], "=")
			i += end + 1
			got, present := e.Attrs[strings.TrimSpace(k)]
			if !present || (hasV && got != strings.Trim(strings.TrimSpace(v), `"'`)) {
				return false
			}
		}
	}
	return true
}

// FakeResolver resolves targets against Elements: by CSS, then XPath, then
// exact visible text or name, at score 1. Set Result to answer every
// request with a fixed resolution instead.
type FakeResolver struct {
	recorder
	mu       sync.Mutex
	Elements []abi.Element
	Result   *abi.Resolution
}

func (r *FakeResolver) resolve(q abi.ResolveRequest) (abi.Resolution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Result != nil {
		return *r.Result, nil
	}
	res := abi.Resolution{Details: abi.ResolutionDetails{HealingAttempt: q.Level}}
	for _, e := range r.Elements {
		method := ""
		switch {
		case q.Target.CSS != "" && MatchCSS(q.Target.CSS, e):
			method = "css"
		case q.Target.XPath != "" && q.Target.XPath == e.XPath:
			method = "xpath"
		case q.Target.Text != "" && (q.Target.Text == e.VisibleText || q.Target.Text == e.Name):
			method = "text"
		}
		if method != "" {
			res.Candidates = append(res.Candidates, abi.Candidate{Element: e, Score: 1, Reasons: []string{method}})
			if res.Element == nil {
				el := e
				res.Element, res.Score, res.Method = &el, 1, method
			}
		}
	}
	return res, nil
}

func (r *FakeResolver) Resolve(ctx context.Context, q abi.ResolveRequest) (abi.Resolution, error) {
	return serve(&r.recorder, ctx, "Resolve", q, func() (abi.Resolution, error) {
		res, _ := r.resolve(q)
		if res.Element == nil {
			return res, fmt.Errorf("Resolve: nothing matches the target: %w", abi.ErrNotFound)
		}
		return res, nil
	})
}

func (r *FakeResolver) Candidates(ctx context.Context, q abi.ResolveRequest) (abi.Resolution, error) {
	return serve(&r.recorder, ctx, "Candidates", q, func() (abi.Resolution, error) {
		res, err := r.resolve(q)
		res.Element = nil
		return res, err
	})
}

// FakeVision answers LocateText from a table of texts.
type FakeVision struct {
	recorder
	mu    sync.Mutex
	Texts map[string]abi.TextLocation
}

func (v *FakeVision) LocateText(ctx context.Context, q abi.LocateTextRequest) (abi.TextLocation, error) {
	return serve(&v.recorder, ctx, "LocateText", q, func() (abi.TextLocation, error) {
		v.mu.Lock()
		defer v.mu.Unlock()
		if loc, ok := v.Texts[q.Text]; ok {
			return loc, nil
		}
		return abi.TextLocation{Found: false}, nil
	})
}

// FakeNet answers LookupHost from a table of hosts; unknown hosts get a
// result with Error set, like a real failed lookup.
type FakeNet struct {
	recorder
	mu    sync.Mutex
	Hosts map[string][]string
}

func (n *FakeNet) LookupHost(ctx context.Context, q abi.LookupRequest) (abi.LookupResult, error) {
	return serve(&n.recorder, ctx, "LookupHost", q, func() (abi.LookupResult, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if addrs, ok := n.Hosts[q.Host]; ok {
			return abi.LookupResult{Host: q.Host, Addrs: slices.Clone(addrs)}, nil
		}
		return abi.LookupResult{Host: q.Host, Error: "no such host"}, nil
	})
}

// Fakes bundles one fake of each service.
type Fakes struct {
	Browser  *FakeBrowser
	Resolver *FakeResolver
	Vision   *FakeVision
	Net      *FakeNet
}

// New returns fakes for a page at url holding elements; the resolver sees
// the same elements.
func New(url string, elements ...abi.Element) *Fakes {
	return &Fakes{
		Browser:  NewBrowser(url, elements...),
		Resolver: &FakeResolver{Elements: elements},
		Vision:   &FakeVision{Texts: map[string]abi.TextLocation{}},
		Net:      &FakeNet{Hosts: map[string][]string{"localhost": {"127.0.0.1"}}},
	}
}

// Env returns a host.Env using every fake.
func (f *Fakes) Env() host.Env {
	return host.Env{Browser: f.Browser, Resolver: f.Resolver, Vision: f.Vision, Net: f.Net}
}

var (
	_ host.Browser  = (*FakeBrowser)(nil)
	_ host.Resolver = (*FakeResolver)(nil)
	_ host.Vision   = (*FakeVision)(nil)
	_ host.Net      = (*FakeNet)(nil)
)
