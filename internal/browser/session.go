package browser

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chromedp/cdproto/emulation"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"image"
	_ "image/png" // screenshots are PNG
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/selfheal/engine/abi"
)

//go:embed page.js
var pageJS string

// ErrIntercepted is wrapped by a click whose point is covered by another
// element (an overlay, a cookie banner); the message names that element.
var ErrIntercepted = errors.New("click intercepted")

// PageCache supplies the last good copy of a page for LoadCached.
type PageCache interface {
	CachedPage(ctx context.Context, url string) (html string, ok bool, err error)
}

// PageSaver records a page's HTML after every successful navigation, so that
// the cache behind LoadCached fills itself.
type PageSaver interface {
	SavePage(ctx context.Context, url, html string) error
}

// SessionOptions configure a Session. The zero value is usable.
type SessionOptions struct {
	// Timeout is the default deadline of an operation whose request has
	// none; default 10s.
	Timeout time.Duration
	// LoadGrace is how long a navigation waits for the load event after
	// DOMContentLoaded before it returns anyway (a stalled image or script
	// must not hang it); default 2s.
	LoadGrace time.Duration
	// Width and Height override the browser's viewport.
	Width, Height int
	// UserAgent, when set, replaces the browser's user agent in this
	// session (and in contexts it opens with NewContext).
	UserAgent string
	// Cache and Mirrors back LoadCached: a stored copy first, then a mirror
	// URL (exact URL, or a key ending in "/" as a prefix).
	Cache   PageCache
	Mirrors map[string]string
	// Saver, when set, receives each successfully loaded page's HTML.
	Saver PageSaver
}

// Session is one tab. Operations may run from several goroutines, but they
// act on the same page, so concurrent actions race as they would for a user.
type Session struct {
	b    *Browser
	opts SessionOptions

	mu      sync.Mutex
	tab     *tab
	offline bool
}

type tab struct {
	ctx    context.Context // the tab's chromedp context: no deadline
	cancel context.CancelFunc
	net    *netTracker
}

// NewSession opens a tab in the browser's default context.
func (b *Browser) NewSession(ctx context.Context, opts SessionOptions) (*Session, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.LoadGrace <= 0 {
		opts.LoadGrace = 2 * time.Second
	}
	if opts.Width <= 0 {
		opts.Width = b.opts.Width
	}
	if opts.Height <= 0 {
		opts.Height = b.opts.Height
	}
	s := &Session{b: b, opts: opts}
	t, err := s.openTab(ctx, false)
	if err != nil {
		return nil, err
	}
	s.tab = t
	return s, nil
}

// openTab creates and initialises a tab; incognito puts it in a new browser
// context (no cookies, no cache).
func (s *Session) openTab(ctx context.Context, incognito bool) (*tab, error) {
	var copts []chromedp.ContextOption
	if incognito {
		copts = append(copts, chromedp.WithNewBrowserContext())
	}
	tctx, cancel := chromedp.NewContext(s.b.ctx, copts...)
	t := &tab{ctx: tctx, cancel: cancel, net: newNetTracker()}
	errc := make(chan error, 1)
	go func() {
		// The first call creates the target and must not carry a deadline.
		if err := chromedp.Listen(tctx, t.net.handle); err != nil {
			errc <- err
			return
		}
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(int64(s.opts.Width), int64(s.opts.Height))); err != nil {
			errc <- err
			return
		}
		// Every tab behaves as the focused one: key presses (PageDown) and
		// focus events must not depend on which of several sessions'
		// tabs the browser last brought to the front.
		if _, err := chromedp.Call(tctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
			errc <- err
			return
		}
		if s.opts.UserAgent != "" {
			_, err := chromedp.Call(tctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: s.opts.UserAgent})
			errc <- err
			return
		}
		errc <- nil
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, s.b.crashErr(fmt.Errorf("browser: opening a tab: %w", err))
	}
	return t, nil
}

// Close closes the session's tab.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tab != nil {
		s.tab.cancel()
		s.tab = nil
	}
	return nil
}

func (s *Session) current() (*tab, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tab == nil {
		return nil, errors.New("browser: session is closed")
	}
	return s.tab, nil
}

// opCtx derives an operation's context from the tab: the tab's chromedp
// context (so no new browser starts) with the operation's deadline, also
// ended by the caller's context.
func (s *Session) opCtx(ctx context.Context, timeoutMS int64) (context.Context, *tab, context.CancelFunc, error) {
	t, err := s.current()
	if err != nil {
		return nil, nil, nil, err
	}
	d := s.opts.Timeout
	if timeoutMS > 0 {
		d = time.Duration(timeoutMS) * time.Millisecond
	}
	c, cancel := context.WithTimeout(t.ctx, d)
	if dl, ok := ctx.Deadline(); ok {
		var cancel2 context.CancelFunc
		c, cancel2 = context.WithDeadline(c, dl)
		prev := cancel
		cancel = func() { cancel2(); prev() }
	}
	stop := context.AfterFunc(ctx, cancel)
	return c, t, func() { stop(); cancel() }, nil
}

// fail wraps an operation's error with what it acted on.
func (s *Session) fail(what string, err error) error {
	return s.b.crashErr(fmt.Errorf("browser: %s: %w", what, err))
}

// pageJSON are the decoding options for page.js's answers: JavaScript
// strings may hold lone surrogates, which JSON.stringify escapes and a
// strict decoder refuses.
var pageJSON = jsontext.AllowInvalidUTF8(true)

// eval runs one operation of page.js and decodes its JSON result.
func eval[T any](ctx context.Context, op string, arg any) (T, error) {
	var zero T
	a, err := json.Marshal(arg)
	if err != nil {
		return zero, err
	}
	o, _ := json.Marshal(op)
	expr := "JSON.stringify((" + pageJS + ")(" + string(o) + "," + string(a) + "))"
	// The answer is a JSON text inside a JSON string: take the raw string
	// and decode both layers with the faster decoder (a 2,000-element
	// snapshot is ~0.8 MB; encoding/json spent ~20 ms on it, this ~7 ms).
	quoted, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return zero, err
	}
	var raw string
	if err := jsonv2.Unmarshal(quoted, &raw, pageJSON); err != nil {
		return zero, fmt.Errorf("decoding the page's answer to %s: %w", op, err)
	}
	var v T
	if err := jsonv2.Unmarshal([]byte(raw), &v, pageJSON); err != nil {
		return zero, fmt.Errorf("decoding the page's answer to %s: %w", op, err)
	}
	return v, nil
}

// jsTarget addresses elements in page.js: a path of selectors of one kind,
// the frames (iframes, shadow hosts) first, joined in locators by " >> ".
type jsTarget struct {
	Kind    string   `json:"kind"`
	Path    []string `json:"path"`
	Limit   int      `json:"limit,omitempty"`
	Scroll  bool     `json:"scroll,omitempty"`
	Focus   bool     `json:"focus,omitempty"`
	Hittest bool     `json:"hittest,omitempty"`
	Select  *string  `json:"select,omitempty"`
}

// FrameSeparator joins the frame path and the element's selector in a
// Locator: "/html[1]/body[1]/iframe[1] >> /html[1]/body[1]/button[1]".
const FrameSeparator = abi.FrameSeparator

// LocatorFor returns the locator of a snapshot element: its frame path and
// XPath.
func LocatorFor(e abi.Element) abi.Locator { return abi.LocatorFor(e) }

// existsAnswer is page.js's answer to exists: the count, or an error for a
// selector the browser cannot parse.
type existsAnswer struct {
	abi.ExistsResult
	Error string `json:"error"`
}

func targetOf(css, xpath string) (jsTarget, string, error) {
	switch {
	case css != "" && xpath != "":
		return jsTarget{}, "", fmt.Errorf("%w: give css or xpath, not both (css %q, xpath %q)", abi.ErrBadRequest, css, xpath)
	case css != "":
		return jsTarget{Kind: "css", Path: strings.Split(css, FrameSeparator)}, fmt.Sprintf("css %q", css), nil
	case xpath != "":
		return jsTarget{Kind: "xpath", Path: strings.Split(xpath, FrameSeparator)}, fmt.Sprintf("xpath %q", xpath), nil
	}
	return jsTarget{}, "", fmt.Errorf("%w: the locator has no css, xpath or point", abi.ErrBadRequest)
}

type located struct {
	Count       int     `json:"count"`
	X           float64 `json:"x"`
	Y           float64 `json:"y"`
	Visible     bool    `json:"visible"`
	Desc        string  `json:"desc"`
	Intercepted string  `json:"intercepted"`
	Error       string  `json:"error"`
}

// locate waits until the target matches a visible element (or the deadline)
// and returns its centre in the top viewport.
func locate(ctx context.Context, jt jsTarget, desc string) (located, error) {
	var last located
	for {
		l, err := eval[located](ctx, "locate", jt)
		if err != nil {
			if ctx.Err() != nil {
				return last, notFoundOrTimeout(last, desc, ctx.Err())
			}
			return l, err
		}
		if l.Error != "" && l.Count > 0 {
			return l, fmt.Errorf("%w: %s", abi.ErrBadRequest, l.Error)
		}
		if l.Count > 0 && l.Visible {
			return l, nil
		}
		last = l
		select {
		case <-ctx.Done():
			return last, notFoundOrTimeout(last, desc, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func notFoundOrTimeout(last located, desc string, err error) error {
	switch {
	case last.Error != "":
		return fmt.Errorf("%w: %s (%w)", abi.ErrNotFound, last.Error, err)
	case last.Count == 0:
		return fmt.Errorf("%w: no element matches %s (%w)", abi.ErrNotFound, desc, err)
	}
	return fmt.Errorf("%d element(s) match %s but none is visible: %w", last.Count, desc, err)
}

// PageInfo returns the page's URL, title and ready state.
func (s *Session) PageInfo(ctx context.Context) (abi.PageInfo, error) {
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return abi.PageInfo{}, err
	}
	defer done()
	pi, err := eval[abi.PageInfo](c, "pageinfo", nil)
	if err != nil {
		return pi, s.fail("page info", err)
	}
	return pi, nil
}

// Query returns the records of the elements matching a CSS selector or an
// XPath, without waiting. Query records carry no neighbours (those need the
// whole page; use Snapshot).
func (s *Session) Query(ctx context.Context, q abi.Query) ([]abi.Element, error) {
	jt, desc, err := targetOf(q.CSS, q.XPath)
	if err != nil {
		return nil, err
	}
	jt.Limit = q.Limit
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return nil, err
	}
	defer done()
	res, err := eval[queryAnswer](c, "query", jt)
	switch {
	case err != nil:
		return nil, s.fail("query "+desc, err)
	case strings.HasPrefix(res.Error, "invalid selector"):
		return nil, fmt.Errorf("browser: query %s: %w: %s", desc, abi.ErrBadRequest, res.Error)
	case res.Error != "":
		return nil, fmt.Errorf("browser: query %s: %w: %s", desc, abi.ErrNotFound, res.Error)
	}
	return res.Elements, nil
}

// Exists counts the matches of a selector without waiting.
func (s *Session) Exists(ctx context.Context, q abi.Query) (abi.ExistsResult, error) {
	jt, desc, err := targetOf(q.CSS, q.XPath)
	if err != nil {
		return abi.ExistsResult{}, err
	}
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return abi.ExistsResult{}, err
	}
	defer done()
	r, err := eval[existsAnswer](c, "exists", jt)
	if err != nil {
		return r.ExistsResult, s.fail("exists "+desc, err)
	}
	if r.Error != "" {
		return abi.ExistsResult{}, fmt.Errorf("browser: exists %s: %w: %s", desc, abi.ErrBadRequest, r.Error)
	}
	return r.ExistsResult, nil
}

// Snapshot records the page's elements (see page.js for which), including
// same-origin iframes and open shadow roots, in one evaluation.
func (s *Session) Snapshot(ctx context.Context) (abi.Snapshot, error) {
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return abi.Snapshot{}, err
	}
	defer done()
	snap, err := eval[snapshotAnswer](c, "snapshot", nil)
	if err != nil {
		return snap.Snapshot, s.fail("snapshot", err)
	}
	return snap.Snapshot, nil
}

// Screenshot captures the viewport at a device scale (0 means 1).
func (s *Session) Screenshot(ctx context.Context, req abi.ScreenshotRequest) (abi.Screenshot, error) {
	scale := req.Scale
	if scale <= 0 {
		scale = 1
	}
	if scale > 4 {
		return abi.Screenshot{}, fmt.Errorf("%w: screenshot scale %v is above 4", abi.ErrBadRequest, scale)
	}
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return abi.Screenshot{}, err
	}
	defer done()
	res, err := chromedp.Call(c, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format: page.CaptureScreenshotFormatPng,
		Clip:   &page.Viewport{X: 0, Y: 0, Width: float64(s.opts.Width), Height: float64(s.opts.Height), Scale: scale},
	})
	if err != nil {
		return abi.Screenshot{}, s.fail("screenshot", err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(res.Data))
	if err != nil {
		return abi.Screenshot{}, s.fail("screenshot", err)
	}
	return abi.Screenshot{Width: cfg.Width, Height: cfg.Height, PNG: res.Data}, nil
}

// Click clicks the element's centre (or the point) with a trusted mouse
// event. It fails with ErrIntercepted, naming the covering element, when
// another element would receive the click.
func (s *Session) Click(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	if l.Point != nil {
		if err := chromedp.Do(c, chromedp.MouseClickXY(l.Point.X, l.Point.Y)); err != nil {
			return abi.ActResult{}, s.fail(fmt.Sprintf("click at (%.0f,%.0f)", l.Point.X, l.Point.Y), err)
		}
		return abi.ActResult{OK: true}, nil
	}
	jt, desc, err := targetOf(l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	jt.Scroll, jt.Hittest = true, true
	loc, err := locate(c, jt, desc)
	if err != nil {
		return abi.ActResult{}, s.fail("click "+desc, err)
	}
	if loc.Intercepted != "" {
		return abi.ActResult{Message: "intercepted by " + loc.Intercepted},
			s.fail("click "+desc, fmt.Errorf("%w: %s at (%.0f,%.0f) is covered; intercepted by %s", ErrIntercepted, loc.Desc, loc.X, loc.Y, loc.Intercepted))
	}
	if err := chromedp.Do(c, chromedp.MouseClickXY(loc.X, loc.Y)); err != nil {
		return abi.ActResult{}, s.fail("click "+desc, err)
	}
	return abi.ActResult{OK: true, Message: fmt.Sprintf("clicked %s at (%.0f,%.0f)", loc.Desc, loc.X, loc.Y)}, nil
}

// Hover moves the mouse to the element's centre (or the point).
func (s *Session) Hover(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	x, y, desc := 0.0, 0.0, ""
	if l.Point != nil {
		x, y, desc = l.Point.X, l.Point.Y, fmt.Sprintf("point (%.0f,%.0f)", l.Point.X, l.Point.Y)
	} else {
		jt, d, err := targetOf(l.CSS, l.XPath)
		if err != nil {
			return abi.ActResult{}, err
		}
		jt.Scroll = true
		loc, err := locate(c, jt, d)
		if err != nil {
			return abi.ActResult{}, s.fail("hover "+d, err)
		}
		x, y, desc = loc.X, loc.Y, d
	}
	if err := chromedp.Do(c, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y)); err != nil {
		return abi.ActResult{}, s.fail("hover "+desc, err)
	}
	return abi.ActResult{OK: true}, nil
}

// ScrollIntoView scrolls the element to the middle of the viewport when it
// is outside it.
func (s *Session) ScrollIntoView(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	jt, desc, err := targetOf(l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	jt.Scroll = true
	if _, err := locate(c, jt, desc); err != nil {
		return abi.ActResult{}, s.fail("scroll into view "+desc, err)
	}
	return abi.ActResult{OK: true}, nil
}

// Type focuses the element and types l.Text as key events.
func (s *Session) Type(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	jt, desc, err := targetOf(l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	jt.Scroll, jt.Focus = true, true
	if _, err := locate(c, jt, desc); err != nil {
		return abi.ActResult{}, s.fail("type into "+desc, err)
	}
	if err := chromedp.Do(c, chromedp.KeyEvent(l.Text)); err != nil {
		return abi.ActResult{}, s.fail("type into "+desc, err)
	}
	return abi.ActResult{OK: true}, nil
}

// keyNames maps key names ("Enter", "Tab", "ArrowDown") to chromedp's runes.
var keyNames = func() map[string]rune {
	m := make(map[string]rune, len(kb.Keys))
	for r, k := range kb.Keys {
		if len([]rune(k.Key)) > 1 {
			m[k.Key] = r
		}
	}
	return m
}()

// Press presses l.Key (a key name such as "Enter" or one character) on the
// element, focused first, or on the page when the locator names none.
func (s *Session) Press(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	key := l.Key
	r, ok := keyNames[key]
	if !ok {
		rs := []rune(key)
		if len(rs) != 1 {
			return abi.ActResult{}, fmt.Errorf("%w: unknown key %q", abi.ErrBadRequest, key)
		}
		r = rs[0]
	}
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	desc := "page"
	if l.CSS != "" || l.XPath != "" {
		jt, d, err := targetOf(l.CSS, l.XPath)
		if err != nil {
			return abi.ActResult{}, err
		}
		desc = d
		jt.Focus = true
		if _, err := locate(c, jt, d); err != nil {
			return abi.ActResult{}, s.fail(fmt.Sprintf("press %s on %s", key, d), err)
		}
	}
	if err := chromedp.Do(c, chromedp.KeyEvent(string(r))); err != nil {
		return abi.ActResult{}, s.fail(fmt.Sprintf("press %s on %s", key, desc), err)
	}
	return abi.ActResult{OK: true}, nil
}

// Select chooses the option of a <select> whose value, or else whose text,
// is l.Text, and fires input and change events.
func (s *Session) Select(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	jt, desc, err := targetOf(l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	opt := l.Text
	jt.Select = &opt
	if _, err := locate(c, jt, desc); err != nil {
		return abi.ActResult{}, s.fail(fmt.Sprintf("select %q in %s", l.Text, desc), err)
	}
	return abi.ActResult{OK: true}, nil
}

// WaitForSelector waits until the locator matches (a visible element with
// l.Visible).
func (s *Session) WaitForSelector(ctx context.Context, l abi.Locator) (abi.ActResult, error) {
	jt, desc, err := targetOf(l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	c, _, done, err := s.opCtx(ctx, l.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	var last abi.ExistsResult
	for {
		a, err := eval[existsAnswer](c, "exists", jt)
		if err == nil && a.Error != "" {
			return abi.ActResult{}, fmt.Errorf("browser: wait for %s: %w: %s", desc, abi.ErrBadRequest, a.Error)
		}
		r := a.ExistsResult
		if err == nil {
			last = r
			if r.Count > 0 && (!l.Visible || r.Visible) {
				return abi.ActResult{OK: true}, nil
			}
		} else if c.Err() == nil {
			return abi.ActResult{}, s.fail("wait for "+desc, err)
		}
		select {
		case <-c.Done():
			state := "nothing matched"
			if last.Count > 0 {
				state = fmt.Sprintf("%d matched, none visible", last.Count)
			}
			return abi.ActResult{}, s.fail("wait for "+desc, fmt.Errorf("%s: %w", state, c.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// currentURL reads the page URL, "" on failure.
func currentURL(ctx context.Context) string {
	pi, err := eval[abi.PageInfo](ctx, "pageinfo", nil)
	if err != nil {
		return ""
	}
	return pi.URL
}

// mainFrame returns the tab's top frame id.
func mainFrame(ctx context.Context) (cdp.FrameID, error) {
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return "", err
	}
	return tree.FrameTree.Frame.ID, nil
}

// loadWait runs trigger and waits for the main frame's new document to reach
// DOMContentLoaded and then load; after DOMContentLoaded it waits at most
// grace for load, so that a stalled sub-resource cannot hang it. trigger
// returns the navigation's loader id when it knows it ("" to take the next
// document started in the main frame) and whether the navigation stayed in
// the same document.
func loadWait(ctx context.Context, grace time.Duration, trigger func(ctx context.Context) (cdp.LoaderID, bool, error)) (string, error) {
	frame, err := mainFrame(ctx)
	if err != nil {
		return "", err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := chromedp.Events(lctx, page.LifecycleEvent)
	loader, sameDoc, err := trigger(ctx)
	if err != nil {
		return "", err
	}
	if sameDoc {
		return "same-document navigation", nil
	}
	dcl := false
	for ev, err := range events {
		if err != nil {
			if dcl && ctx.Err() == nil {
				return "loaded to DOMContentLoaded; the load event did not fire within the grace period", nil
			}
			return "", err
		}
		if ev.FrameID != frame {
			continue
		}
		if loader == "" && ev.Name == "init" {
			loader = ev.LoaderID
		}
		if ev.LoaderID != loader {
			continue
		}
		switch ev.Name {
		case "DOMContentLoaded":
			if !dcl {
				dcl = true
				time.AfterFunc(grace, cancel)
			}
		case "load":
			return "", nil
		}
	}
	return "", lctx.Err()
}

// afterLoad reports the URL and records the page through the saver.
func (s *Session) afterLoad(c context.Context, msg string) abi.ActResult {
	res := abi.ActResult{OK: true, Message: msg}
	if s.opts.Saver != nil {
		if h, err := eval[struct {
			URL  string `json:"url"`
			HTML string `json:"html"`
		}](c, "html", nil); err == nil {
			res.URL = h.URL
			if err := s.opts.Saver.SavePage(c, h.URL, h.HTML); err != nil {
				res.Message = strings.TrimSpace(res.Message + "; saving the page: " + err.Error())
			}
			return res
		}
	}
	res.URL = currentURL(c)
	return res
}

// Navigate loads nav.URL, waiting for DOMContentLoaded and (within the load
// grace) the load event, not for network idle. A failed load wraps
// chromedp.ErrPageLoad with the browser's net::ERR_* text.
func (s *Session) Navigate(ctx context.Context, nav abi.Navigation) (abi.ActResult, error) {
	if nav.URL == "" {
		return abi.ActResult{}, fmt.Errorf("%w: navigate needs a url", abi.ErrBadRequest)
	}
	c, _, done, err := s.opCtx(ctx, nav.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	return s.navigateIn(c, nav.URL)
}

func (s *Session) navigateIn(c context.Context, url string) (abi.ActResult, error) {
	msg, err := loadWait(c, s.opts.LoadGrace, func(ctx context.Context) (cdp.LoaderID, bool, error) {
		res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
		if err != nil {
			return "", false, err
		}
		if res.ErrorText != "" {
			return "", false, &chromedp.LoadError{ErrorText: res.ErrorText}
		}
		return res.LoaderID, res.LoaderID == "", nil
	})
	if err != nil {
		return abi.ActResult{}, s.fail(fmt.Sprintf("navigate to %s", url), err)
	}
	return s.afterLoad(c, msg), nil
}

// Reload reloads the page, bypassing the cache with nav.IgnoreCache.
func (s *Session) Reload(ctx context.Context, nav abi.Navigation) (abi.ActResult, error) {
	c, _, done, err := s.opCtx(ctx, nav.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	url := currentURL(c)
	ignore := nav.IgnoreCache
	msg, err := loadWait(c, s.opts.LoadGrace, func(ctx context.Context) (cdp.LoaderID, bool, error) {
		_, err := chromedp.Call(ctx, page.Reload, page.ReloadParams{IgnoreCache: &ignore})
		return "", false, err
	})
	if err != nil {
		return abi.ActResult{}, s.fail("reload "+url, err)
	}
	return s.afterLoad(c, msg), nil
}

// Back goes one entry back in the history.
func (s *Session) Back(ctx context.Context, nav abi.Navigation) (abi.ActResult, error) {
	c, _, done, err := s.opCtx(ctx, nav.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	hist, err := chromedp.Call(c, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		return abi.ActResult{}, s.fail("back", err)
	}
	if hist.CurrentIndex <= 0 || int(hist.CurrentIndex) >= len(hist.Entries) {
		return abi.ActResult{}, fmt.Errorf("browser: back: %w: no previous page", abi.ErrNotFound)
	}
	prev := hist.Entries[hist.CurrentIndex-1]
	msg, err := loadWait(c, s.opts.LoadGrace, func(ctx context.Context) (cdp.LoaderID, bool, error) {
		_, err := chromedp.Call(ctx, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: prev.ID})
		return "", false, err
	})
	if err != nil {
		return abi.ActResult{}, s.fail("back to "+prev.URL, err)
	}
	return s.afterLoad(c, msg), nil
}

// NewContext opens a tab in a fresh incognito browser context (no cookies,
// no cache), navigates it to nav.URL or the current URL, and makes it the
// session's tab; the old tab is closed.
func (s *Session) NewContext(ctx context.Context, nav abi.Navigation) (abi.ActResult, error) {
	url := nav.URL
	if url == "" {
		c, _, done, err := s.opCtx(ctx, nav.TimeoutMS)
		if err != nil {
			return abi.ActResult{}, err
		}
		url = currentURL(c)
		done()
	}
	t, err := s.openTab(ctx, true)
	if err != nil {
		return abi.ActResult{}, err
	}
	s.mu.Lock()
	old := s.tab
	s.tab = t
	s.mu.Unlock()
	if old != nil {
		old.cancel()
	}
	if url == "" || url == "about:blank" {
		return abi.ActResult{OK: true, URL: "about:blank", Message: "new context"}, nil
	}
	return s.Navigate(ctx, abi.Navigation{URL: url, TimeoutMS: nav.TimeoutMS})
}

// LoadCached shows the last good copy of nav.URL (or the current URL): the
// page cache's HTML, written into the current document so that relative
// links keep working ("snapshot"), or else a configured mirror ("mirror").
func (s *Session) LoadCached(ctx context.Context, nav abi.Navigation) (abi.ActResult, error) {
	c, _, done, err := s.opCtx(ctx, nav.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	url := nav.URL
	if url == "" {
		url = currentURL(c)
	}
	if s.opts.Cache != nil {
		html, ok, err := s.opts.Cache.CachedPage(c, url)
		if err != nil {
			return abi.ActResult{}, fmt.Errorf("browser: load cached %s: page cache: %w", url, err)
		}
		if ok {
			if cur := currentURL(c); cur != url {
				// Set the document in place at the page's own URL when
				// possible; otherwise on a blank page.
				if _, err := s.navigateIn(c, url); err != nil {
					if _, err := s.navigateIn(c, "about:blank"); err != nil {
						return abi.ActResult{}, s.fail("load cached "+url, err)
					}
				}
			}
			frame, err := mainFrame(c)
			if err == nil {
				_, err = chromedp.Call(c, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: frame, HTML: html})
			}
			if err != nil {
				return abi.ActResult{}, s.fail("load cached "+url, err)
			}
			return abi.ActResult{OK: true, URL: currentURL(c), Source: "snapshot", Message: "stored copy of " + url}, nil
		}
	}
	if m := s.mirrorFor(url); m != "" {
		res, err := s.navigateIn(c, m)
		if err != nil {
			return abi.ActResult{}, err
		}
		res.Source, res.Message = "mirror", "mirror "+m+" of "+url
		return res, nil
	}
	return abi.ActResult{}, fmt.Errorf("browser: load cached %s: %w: no stored copy and no mirror", url, abi.ErrNotFound)
}

func (s *Session) mirrorFor(url string) string {
	if m, ok := s.opts.Mirrors[url]; ok {
		return m
	}
	best := ""
	for k := range s.opts.Mirrors {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(url, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return ""
	}
	return s.opts.Mirrors[best] + strings.TrimPrefix(url, best)
}

// SetOffline turns network emulation offline or back online; requests then
// fail with net::ERR_INTERNET_DISCONNECTED. Emulation.Network conditions are
// not typed in cdproto any more, so the raw method is called.
func (s *Session) SetOffline(ctx context.Context, offline bool) error {
	c, _, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return err
	}
	defer done()
	err = chromedp.Do(c, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		return t.Call(ctx, "Network.emulateNetworkConditions", map[string]any{
			"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
		}, nil)
	}))
	if err != nil {
		return s.fail(fmt.Sprintf("set offline %v", offline), err)
	}
	s.mu.Lock()
	s.offline = offline
	s.mu.Unlock()
	return nil
}

// NetworkState reports whether the page is online (navigator.onLine and the
// emulation state) and the requests in flight.
func (s *Session) NetworkState(ctx context.Context) (abi.NetworkState, error) {
	c, t, done, err := s.opCtx(ctx, 0)
	if err != nil {
		return abi.NetworkState{}, err
	}
	defer done()
	on, err := eval[struct {
		Online bool `json:"online"`
	}](c, "online", nil)
	if err != nil {
		return abi.NetworkState{}, s.fail("network state", err)
	}
	s.mu.Lock()
	offline := s.offline
	s.mu.Unlock()
	n, idle := t.net.state()
	return abi.NetworkState{Online: on.Online && !offline, Inflight: n, IdleMS: idle.Milliseconds()}, nil
}

// WaitNetworkIdle waits until no request has been in flight for req.IdleMS
// (default 500 ms).
func (s *Session) WaitNetworkIdle(ctx context.Context, req abi.IdleRequest) (abi.ActResult, error) {
	idle := time.Duration(req.IdleMS) * time.Millisecond
	if idle <= 0 {
		idle = 500 * time.Millisecond
	}
	c, t, done, err := s.opCtx(ctx, req.TimeoutMS)
	if err != nil {
		return abi.ActResult{}, err
	}
	defer done()
	for {
		n, quiet := t.net.state()
		if n == 0 && quiet >= idle {
			return abi.ActResult{OK: true}, nil
		}
		select {
		case <-c.Done():
			return abi.ActResult{}, s.fail(fmt.Sprintf("wait for network idle %v", idle),
				fmt.Errorf("%d request(s) in flight (%s): %w", n, strings.Join(t.net.pending(3), ", "), c.Err()))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// netTracker follows requests through network events.
type netTracker struct {
	mu       sync.Mutex
	inflight map[network.RequestID]string
	last     time.Time
}

func newNetTracker() *netTracker {
	return &netTracker{inflight: map[network.RequestID]string{}, last: time.Now()}
}

// handle runs on chromedp's event loop: it must be quick.
func (n *netTracker) handle(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && strings.HasPrefix(ev.Request.URL, "data:") {
			return
		}
		url := ""
		if ev.Request != nil {
			url = ev.Request.URL
		}
		n.inflight[ev.RequestID] = url
	case *network.EventLoadingFinished:
		delete(n.inflight, ev.RequestID)
	case *network.EventLoadingFailed:
		delete(n.inflight, ev.RequestID)
	default:
		return
	}
	n.last = time.Now()
}

func (n *netTracker) state() (int, time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.inflight), time.Since(n.last)
}

func (n *netTracker) pending(max int) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, u := range n.inflight {
		if len(out) == max {
			break
		}
		out = append(out, u)
	}
	return out
}
