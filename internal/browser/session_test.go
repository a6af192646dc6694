package browser

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/selfheal/engine/abi"
)

// sessionAPI is the host's view of a browser session (declared in package
// host); this copy checks that *Session satisfies it.
type sessionAPI interface {
	PageInfo(ctx context.Context) (abi.PageInfo, error)
	Query(ctx context.Context, q abi.Query) ([]abi.Element, error)
	Exists(ctx context.Context, q abi.Query) (abi.ExistsResult, error)
	Snapshot(ctx context.Context) (abi.Snapshot, error)
	NetworkState(ctx context.Context) (abi.NetworkState, error)
	Screenshot(ctx context.Context, req abi.ScreenshotRequest) (abi.Screenshot, error)
	Click(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Type(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Press(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Hover(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	ScrollIntoView(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	WaitForSelector(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Navigate(ctx context.Context, nav abi.Navigation) (abi.ActResult, error)
	Reload(ctx context.Context, nav abi.Navigation) (abi.ActResult, error)
	Back(ctx context.Context, nav abi.Navigation) (abi.ActResult, error)
	NewContext(ctx context.Context, nav abi.Navigation) (abi.ActResult, error)
	LoadCached(ctx context.Context, nav abi.Navigation) (abi.ActResult, error)
	WaitNetworkIdle(ctx context.Context, req abi.IdleRequest) (abi.ActResult, error)
}

var _ sessionAPI = (*Session)(nil)

const formPage = `<!doctype html><html><head><title>Form</title></head><body>
<h1>Checkout</h1>
<form id="checkout" onsubmit="return false">
  <label for="email">Email</label> <input id="email" name="email" placeholder="you@example.com">
  <select id="size"><option value="s">Small</option><option value="l">Large</option></select>
  <button id="buy" class="btn primary" type="button" data-test="buy"
    onclick="document.title='clicked:'+event.isTrusted">Buy now</button>
  <button id="hidden" style="display:none">Hidden</button>
</form>
<div id="log"></div>
<script>
  document.getElementById('email').addEventListener('keydown', e => { if (e.key === 'Enter') document.title = 'enter:' + e.target.value; });
  document.getElementById('size').addEventListener('change', e => { document.getElementById('log').textContent = 'size=' + e.target.value; });
  document.getElementById('buy').addEventListener('mouseover', () => { document.getElementById('log').textContent = 'hovered'; });
</script>
</body></html>`

func title(t *testing.T, s *Session) string {
	t.Helper()
	pi, err := s.PageInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return pi.Title
}

func text(t *testing.T, s *Session, css string) string {
	t.Helper()
	els, err := s.Query(t.Context(), abi.Query{CSS: css})
	if err != nil || len(els) == 0 {
		t.Fatalf("query %s: %v %v", css, els, err)
	}
	return els[0].Text
}

func TestActions(t *testing.T) {
	srv := serve(t, map[string]string{"/": formPage})
	s := newSession(t, SessionOptions{})
	ctx := t.Context()
	res, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"})
	if err != nil || !res.OK || res.URL != srv.URL+"/" {
		t.Fatalf("navigate: %+v %v", res, err)
	}
	if _, err := s.Click(ctx, abi.Locator{CSS: "#buy"}); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s); got != "clicked:true" {
		t.Errorf("after click title = %q, want a trusted click", got)
	}
	if _, err := s.Type(ctx, abi.Locator{XPath: `//*[@id="email"]`, Text: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Press(ctx, abi.Locator{CSS: "#email", Key: "Enter"}); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s); got != "enter:ada@example.com" {
		t.Errorf("after type+Enter title = %q", got)
	}
	if _, err := s.Select(ctx, abi.Locator{CSS: "#size", Text: "Large"}); err != nil {
		t.Fatal(err)
	}
	if got := text(t, s, "#log"); got != "size=l" {
		t.Errorf("after select log = %q", got)
	}
	if _, err := s.Hover(ctx, abi.Locator{Point: &abi.Point{X: 1, Y: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hover(ctx, abi.Locator{CSS: "#buy"}); err != nil {
		t.Fatal(err)
	}
	if got := text(t, s, "#log"); got != "hovered" {
		t.Errorf("after hover log = %q", got)
	}
	ex, err := s.Exists(ctx, abi.Query{CSS: "button"})
	if err != nil || ex.Count != 2 || !ex.Visible {
		t.Errorf("exists button = %+v %v, want 2 visible", ex, err)
	}
	ex, err = s.Exists(ctx, abi.Query{CSS: "#hidden"})
	if err != nil || ex.Count != 1 || ex.Visible {
		t.Errorf("exists #hidden = %+v %v, want 1 invisible", ex, err)
	}
	if _, err := s.WaitForSelector(ctx, abi.Locator{CSS: "#buy", Visible: true}); err != nil {
		t.Error(err)
	}
}

func TestErrorsNameTheCulprit(t *testing.T) {
	srv := serve(t, map[string]string{"/": formPage})
	s := newSession(t, SessionOptions{})
	ctx := t.Context()
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		do    func() error
		is    []error
		names string
	}{
		{"click missing", func() error { _, err := s.Click(ctx, abi.Locator{CSS: "#nope", TimeoutMS: 200}); return err },
			[]error{abi.ErrNotFound, context.DeadlineExceeded}, `css "#nope"`},
		{"click invisible", func() error { _, err := s.Click(ctx, abi.Locator{CSS: "#hidden", TimeoutMS: 200}); return err },
			[]error{context.DeadlineExceeded}, `none is visible`},
		{"wait missing", func() error {
			_, err := s.WaitForSelector(ctx, abi.Locator{XPath: "//section", TimeoutMS: 200})
			return err
		}, []error{context.DeadlineExceeded}, `xpath "//section"`},
		{"select missing option", func() error { _, err := s.Select(ctx, abi.Locator{CSS: "#size", Text: "Huge"}); return err },
			[]error{abi.ErrBadRequest}, `no option "Huge"`},
		{"refused connection", func() error {
			_, err := s.Navigate(ctx, abi.Navigation{URL: closedURL(t)})
			return err
		}, []error{chromedp.ErrPageLoad}, "net::ERR_CONNECTION_REFUSED"},
		{"query invalid css", func() error { _, err := s.Query(ctx, abi.Query{CSS: "div[[x"}); return err },
			[]error{abi.ErrBadRequest}, `invalid selector "div[[x"`},
		{"exists invalid xpath", func() error { _, err := s.Exists(ctx, abi.Query{XPath: "//div[@"}); return err },
			[]error{abi.ErrBadRequest}, `invalid selector`},
		{"wait invalid css fails at once", func() error {
			_, err := s.WaitForSelector(ctx, abi.Locator{CSS: "#a >> ::bogus(", TimeoutMS: 5000})
			return err
		}, []error{abi.ErrBadRequest}, `invalid selector "::bogus("`},
		{"empty locator", func() error { _, err := s.Click(ctx, abi.Locator{}); return err }, []error{abi.ErrBadRequest}, "no css"},
		{"unknown key", func() error { _, err := s.Press(ctx, abi.Locator{Key: "NoSuchKey"}); return err }, []error{abi.ErrBadRequest}, `"NoSuchKey"`},
		{"back without history", func() error {
			s2 := newSession(t, SessionOptions{})
			_, err := s2.Back(ctx, abi.Navigation{})
			return err
		}, []error{abi.ErrNotFound}, "no previous page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not mention %q", err, tt.names)
			}
		})
	}
	if got := abi.StatusOf(func() error { _, err := s.Click(ctx, abi.Locator{CSS: "#nope", TimeoutMS: 100}); return err }()); got != abi.StatusNotFound {
		t.Errorf("status of a missing element = %d, want not found", got)
	}
}

func TestClickInterceptedByOverlay(t *testing.T) {
	srv := serve(t, map[string]string{"/": `<!doctype html><body>
<button id="go" onclick="document.title='clicked'">Go</button>
<div id="cookie" class="banner modal" style="position:fixed;inset:0;background:rgba(0,0,0,.4)"></div></body>`})
	s := newSession(t, SessionOptions{})
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Click(t.Context(), abi.Locator{CSS: "#go"})
	if !errors.Is(err, ErrIntercepted) || !strings.Contains(err.Error(), "intercepted by <div #cookie.banner.modal>") {
		t.Fatalf("err = %v, want intercepted by the banner", err)
	}
	if res.Message != "intercepted by <div #cookie.banner.modal>" {
		t.Errorf("message = %q", res.Message)
	}
	if got := title(t, s); got == "clicked" {
		t.Error("the covered button was clicked")
	}
}

func TestFramesAndShadowRoots(t *testing.T) {
	srv := serve(t, map[string]string{
		"/": `<!doctype html><body><p>Top</p>
<iframe src="/inner" style="position:absolute;left:100px;top:200px;width:400px;height:200px;border:5px solid black"></iframe>
<div id="host"></div>
<script>
  const root = document.getElementById('host').attachShadow({mode: 'open'});
  root.innerHTML = '<div><button id="sb" onclick="document.title=\'shadow:\'+event.isTrusted">Shadow button</button></div>';
</script></body>`,
		"/inner": `<!doctype html><body style="margin:0"><button id="ib" style="margin:20px" onclick="parent.document.title='frame:'+event.isTrusted">Frame button</button></body>`,
	})
	s := newSession(t, SessionOptions{})
	ctx := t.Context()
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inFrame, inShadow *abi.Element
	for i := range snap.Elements {
		switch snap.Elements[i].Text {
		case "Frame button":
			inFrame = &snap.Elements[i]
		case "Shadow button":
			inShadow = &snap.Elements[i]
		}
	}
	if inFrame == nil || inShadow == nil {
		t.Fatalf("snapshot lacks the frame or shadow button: %+v", snap.Elements)
	}
	if len(inFrame.Frame) != 1 || inFrame.Frame[0] != "/html[1]/body[1]/iframe[1]" || inFrame.XPath != "/html[1]/body[1]/button[1]" {
		t.Errorf("frame button at %v %s", inFrame.Frame, inFrame.XPath)
	}
	// The iframe is at (100,200) with a 5px border; the button has a 20px margin.
	if inFrame.Rect.X != 125 || inFrame.Rect.Y != 225 {
		t.Errorf("frame button rect %+v, want top-level coordinates (125,225)", inFrame.Rect)
	}
	if len(inShadow.Frame) != 1 || inShadow.Frame[0] != "/html[1]/body[1]/div[1]" || inShadow.XPath != "/div[1]/button[1]" {
		t.Errorf("shadow button at %v %s", inShadow.Frame, inShadow.XPath)
	}
	if _, err := s.Click(ctx, LocatorFor(*inFrame)); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s); got != "frame:true" {
		t.Errorf("title after frame click = %q", got)
	}
	if _, err := s.Click(ctx, LocatorFor(*inShadow)); err != nil {
		t.Fatal(err)
	}
	if got := title(t, s); got != "shadow:true" {
		t.Errorf("title after shadow click = %q", got)
	}
	// CSS paths work through frames too.
	if _, err := s.Click(ctx, abi.Locator{CSS: "iframe >> #ib"}); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotRecords(t *testing.T) {
	srv := serve(t, map[string]string{"/": formPage})
	s := newSession(t, SessionOptions{})
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Title != "Form" || snap.Viewport.Width != 1280 || snap.Viewport.Height != 800 {
		t.Errorf("snapshot header %q %+v", snap.Title, snap.Viewport)
	}
	byID := map[string]abi.Element{}
	for i, e := range snap.Elements {
		if e.Index != i {
			t.Fatalf("element %d has index %d", i, e.Index)
		}
		if id := e.Attrs["id"]; id != "" {
			byID[id] = e
		}
	}
	buy := byID["buy"]
	if buy.Tag != "button" || buy.Role != "button" || buy.Name != "Buy now" || buy.VisibleText != "Buy now" ||
		buy.Attrs["data-test"] != "buy" || buy.Attrs["class"] != "btn primary" || !buy.Visible || !buy.Enabled ||
		buy.XPath != "/html[1]/body[1]/form[1]/button[1]" || buy.IDXPath != `//*[@id="buy"]` {
		t.Errorf("buy record %+v", buy)
	}
	if buy.Neighbors.Left != "Large" && buy.Neighbors.Left != "Small" && buy.Neighbors.Left == "" {
		t.Errorf("buy neighbours %+v", buy.Neighbors)
	}
	email := byID["email"]
	if email.Role != "textbox" || email.Name != "Email" || email.Neighbors.Left != "Email" {
		t.Errorf("email record %+v", email)
	}
	if byID["hidden"].Visible {
		t.Error("hidden button recorded as visible")
	}
	var h1 abi.Element
	for _, e := range snap.Elements {
		if e.Tag == "h1" {
			h1 = e
		}
	}
	if h1.Role != "heading" || h1.Text != "Checkout" {
		t.Errorf("h1 record %+v", h1)
	}
	if email.Neighbors.Above != "Checkout" {
		t.Errorf("email above = %q, want Checkout", email.Neighbors.Above)
	}
}

func TestNavigationHistoryAndCache(t *testing.T) {
	srv := serve(t, map[string]string{
		"/a": `<!doctype html><title>A</title><a id="next" href="/b">next</a>`,
		"/b": `<!doctype html><title>B</title><p>page b</p>`,
	})
	saver := &memCache{pages: map[string]string{}}
	s := newSession(t, SessionOptions{Saver: saver, Cache: saver, Mirrors: map[string]string{"http://down.invalid/": srv.URL + "/"}})
	ctx := t.Context()
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/b"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Back(ctx, abi.Navigation{})
	if err != nil || !strings.HasSuffix(res.URL, "/a") {
		t.Fatalf("back: %+v %v", res, err)
	}
	if res, err := s.Reload(ctx, abi.Navigation{IgnoreCache: true}); err != nil || !strings.HasSuffix(res.URL, "/a") {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if !strings.Contains(saver.get(srv.URL+"/b"), "page b") {
		t.Fatalf("saver has %v", saver.pages)
	}
	// The stored copy of /b is shown while the live /b would differ.
	saver.put(srv.URL+"/b", `<html><head><title>Stored B</title></head><body><p id="old">stored</p></body></html>`)
	res, err = s.LoadCached(ctx, abi.Navigation{URL: srv.URL + "/b"})
	if err != nil || res.Source != "snapshot" {
		t.Fatalf("load cached: %+v %v", res, err)
	}
	if got := title(t, s); got != "Stored B" {
		t.Errorf("cached page title = %q", got)
	}
	res, err = s.LoadCached(ctx, abi.Navigation{URL: "http://down.invalid/a"})
	if err != nil || res.Source != "mirror" || !strings.HasSuffix(res.URL, "/a") {
		t.Fatalf("mirror: %+v %v", res, err)
	}
	if _, err := s.LoadCached(ctx, abi.Navigation{URL: "http://nowhere.invalid/"}); !errors.Is(err, abi.ErrNotFound) {
		t.Errorf("load cached without copy: %v", err)
	}
	// A new incognito context has no cookies of the old one.
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/a"}); err != nil {
		t.Fatal(err)
	}
	c, _, done, _ := s.opCtx(ctx, 0)
	chromedp.Do(c, chromedp.Evaluate[chromedp.Void](`document.cookie = "k=v"`))
	done()
	if res, err := s.NewContext(ctx, abi.Navigation{}); err != nil || !strings.HasSuffix(res.URL, "/a") {
		t.Fatalf("new context: %+v %v", res, err)
	}
	c, _, done, _ = s.opCtx(ctx, 0)
	cookie, err := chromedp.Run(c, chromedp.Evaluate[string](`document.cookie`))
	done()
	if err != nil || cookie != "" {
		t.Errorf("cookie in the new context = %q %v", cookie, err)
	}
}

type memCache struct {
	mu    sync.Mutex
	pages map[string]string
}

func (m *memCache) SavePage(_ context.Context, url, html string) error { m.put(url, html); return nil }
func (m *memCache) CachedPage(_ context.Context, url string) (string, bool, error) {
	h := m.get(url)
	return h, h != "", nil
}
func (m *memCache) put(url, html string) { m.mu.Lock(); m.pages[url] = html; m.mu.Unlock() }
func (m *memCache) get(url string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pages[url]
}

func TestStalledSubresourceAndNetwork(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>Stall</title><p>hi</p><img src="/slow.png">`))
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := newSession(t, SessionOptions{LoadGrace: 300 * time.Millisecond})
	ctx := t.Context()
	start := time.Now()
	res, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/", TimeoutMS: 4000})
	if err != nil {
		t.Fatalf("navigate with a stalled image: %v", err)
	}
	if time.Since(start) > 3*time.Second || !strings.Contains(res.Message, "DOMContentLoaded") {
		t.Errorf("navigate took %v, message %q", time.Since(start), res.Message)
	}
	ns, err := s.NetworkState(ctx)
	if err != nil || ns.Inflight < 1 || !ns.Online {
		t.Errorf("network state with a stalled image = %+v %v", ns, err)
	}
	if _, err := s.WaitNetworkIdle(ctx, abi.IdleRequest{IdleMS: 100, TimeoutMS: 300}); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "/slow.png") {
		t.Errorf("wait idle with a stalled image: %v", err)
	}
	once.Do(func() { close(release) })
	if _, err := s.WaitNetworkIdle(ctx, abi.IdleRequest{IdleMS: 100, TimeoutMS: 3000}); err != nil {
		t.Errorf("wait idle after release: %v", err)
	}
	if err := s.SetOffline(ctx, true); err != nil {
		t.Fatal(err)
	}
	ns, err = s.NetworkState(ctx)
	if err != nil || ns.Online {
		t.Errorf("offline state = %+v %v", ns, err)
	}
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); !errors.Is(err, chromedp.ErrPageLoad) || !strings.Contains(err.Error(), "ERR_INTERNET_DISCONNECTED") {
		t.Errorf("navigate offline: %v", err)
	}
	if err := s.SetOffline(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Errorf("navigate back online: %v", err)
	}
}

func TestScreenshotScale(t *testing.T) {
	srv := serve(t, map[string]string{"/": formPage})
	s := newSession(t, SessionOptions{})
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		scale float64
		w, h  int
	}{{0, 1280, 800}, {2, 2560, 1600}} {
		shot, err := s.Screenshot(t.Context(), abi.ScreenshotRequest{Scale: tt.scale})
		if err != nil || shot.Width != tt.w || shot.Height != tt.h || len(shot.PNG) < 100 {
			t.Errorf("scale %v: %dx%d (%d bytes) %v", tt.scale, shot.Width, shot.Height, len(shot.PNG), err)
		}
	}
}

func TestCrashedBrowserIsNamed(t *testing.T) {
	b, err := Launch(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := b.NewSession(t.Context(), SessionOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Process().Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err = s.PageInfo(t.Context())
	if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), DefaultExecPath) {
		t.Fatalf("err = %v, want ErrCrashed naming %s", err, DefaultExecPath)
	}
}

func TestLaunchBadBinary(t *testing.T) {
	_, err := Launch(t.Context(), Options{ExecPath: "/nonexistent/chromium"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Fatalf("err = %v", err)
	}
}

// closedURL is an address where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/x"
}

func TestUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.UserAgent():
		default:
		}
		io.WriteString(w, "<title>ua</title><p>hi</p>")
	}))
	t.Cleanup(srv.Close)
	s := newSession(t, SessionOptions{UserAgent: "selfheal-test/1.0"})
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if ua := <-got; ua != "selfheal-test/1.0" {
		t.Errorf("server saw user agent %q", ua)
	}
}

func TestVisibleNeedsADisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	_, err := Launch(t.Context(), Options{Visible: true})
	if err == nil || !strings.Contains(err.Error(), "DISPLAY") {
		t.Fatalf("err = %v, want a message about the display", err)
	}
}

// JavaScript strings may hold lone surrogates; the snapshot still decodes.
func TestSnapshotLoneSurrogate(t *testing.T) {
	srv := serve(t, map[string]string{"/": `<title>s</title><button id="b">x</button><script>document.getElementById("b").textContent = "bad \ud800 text";</script>`})
	s := newSession(t, SessionOptions{})
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range snap.Elements {
		found = found || (e.Tag == "button" && strings.HasPrefix(e.Text, "bad "))
	}
	if !found {
		t.Errorf("button not in snapshot: %+v", snap.Elements)
	}
}

// Keys reach a session's page even when another session's tab was opened
// after it (every tab behaves as focused).
func TestPageDownInABackgroundTab(t *testing.T) {
	srv := serve(t, map[string]string{"/": `<title>tall</title><p>top</p><div style="height:5000px">x</div>`})
	ctx := t.Context()
	s1 := newSession(t, SessionOptions{})
	if _, err := s1.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	s2 := newSession(t, SessionOptions{})
	if _, err := s2.Navigate(ctx, abi.Navigation{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := s1.Press(ctx, abi.Locator{Key: "PageDown"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		snap, err := s1.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Viewport.ScrollY > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PageDown in the first tab did not scroll it (scroll_y %v)", snap.Viewport.ScrollY)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
