package heal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
	"github.com/selfheal/engine/sdk/go/healtest"
)

var buyButton = abi.Element{
	Tag: "button", Attrs: map[string]string{"id": "buy", "class": "btn primary"},
	Text: "Buy now", XPath: "/html[1]/body[1]/button[1]", Visible: true, Enabled: true,
	Rect: abi.Rect{X: 10, Y: 20, Width: 80, Height: 30},
}

func clickRequest(css string) abi.Request {
	return abi.Request{Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: css, Text: "Buy now"}}, Attempt: 1}
}

// register adds a strategy under a name unique to the test.
func register(t *testing.T, fn heal.Strategy) string {
	t.Helper()
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	heal.Register(name, fn)
	return name
}

// Every host function goes through the JSON convention to the fake host and
// comes back typed.
func TestHostFunctions(t *testing.T) {
	resolution := abi.Resolution{Element: &buyButton, Score: 0.91, Method: "text"}
	tests := []struct {
		name  string
		call  func(c *heal.Call) (any, error)
		fn    abi.HostFunc
		want  any
		check func(t *testing.T, h *healtest.Host)
	}{
		{"page_info", func(c *heal.Call) (any, error) { return c.PageInfo() }, abi.FnPageInfo,
			abi.PageInfo{URL: "http://shop.test/", Title: "Shop", ReadyState: "complete"}, nil},
		{"query", func(c *heal.Call) (any, error) {
			els, err := c.Query(abi.Query{CSS: "button.primary"})
			return len(els) == 1 && els[0].Text == "Buy now", err
		}, abi.FnQuery, true, nil},
		{"exists", func(c *heal.Call) (any, error) { return c.Exists(abi.Query{XPath: buyButton.XPath}) }, abi.FnExists,
			abi.ExistsResult{Count: 1, Visible: true}, nil},
		{"snapshot", func(c *heal.Call) (any, error) {
			s, err := c.Snapshot()
			return fmt.Sprintf("%s %d", s.URL, len(s.Elements)), err
		}, abi.FnSnapshot, "http://shop.test/ 1", nil},
		{"network_state", func(c *heal.Call) (any, error) { return c.NetworkState() }, abi.FnNetworkState,
			abi.NetworkState{Online: true, IdleMS: 1000}, nil},
		{"screenshot", func(c *heal.Call) (any, error) {
			s, err := c.Screenshot(abi.ScreenshotRequest{Scale: 0.5})
			return fmt.Sprintf("%d %d %s", s.Width, s.Height, s.PNG[1:4]), err
		}, abi.FnScreenshot, "640 360 PNG", nil},
		{"click", func(c *heal.Call) (any, error) { return c.Click(abi.Locator{CSS: "#buy"}) }, abi.FnClick,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"type", func(c *heal.Call) (any, error) { return c.Type(abi.Locator{CSS: "#buy", Text: "x"}) }, abi.FnType,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, func(t *testing.T, h *healtest.Host) {
				if v := h.Elements()[0].Attrs["value"]; v != "x" {
					t.Errorf("value after type = %q, want x", v)
				}
			}},
		{"press", func(c *heal.Call) (any, error) { return c.Press(abi.Locator{Key: "Enter"}) }, abi.FnPress,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"hover", func(c *heal.Call) (any, error) { return c.Hover(abi.Locator{Point: &abi.Point{X: 1, Y: 2}}) }, abi.FnHover,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"scroll_into_view", func(c *heal.Call) (any, error) { return c.ScrollIntoView(abi.Locator{CSS: "#buy"}) }, abi.FnScrollIntoView,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"wait_for_selector", func(c *heal.Call) (any, error) {
			return c.WaitForSelector(abi.Locator{CSS: "#buy", Visible: true})
		}, abi.FnWaitForSelector, abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"navigate", func(c *heal.Call) (any, error) { return c.Navigate(abi.Navigation{URL: "http://shop.test/b"}) }, abi.FnNavigate,
			abi.ActResult{OK: true, URL: "http://shop.test/b"}, nil},
		{"reload", func(c *heal.Call) (any, error) { return c.Reload(abi.Navigation{IgnoreCache: true}) }, abi.FnReload,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"back", func(c *heal.Call) (any, error) { return c.Back(abi.Navigation{}) }, abi.FnBack,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"new_context", func(c *heal.Call) (any, error) { return c.NewContext(abi.Navigation{}) }, abi.FnNewContext,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"load_cached", func(c *heal.Call) (any, error) { return c.LoadCached(abi.Navigation{}) }, abi.FnLoadCached,
			abi.ActResult{OK: true, URL: "http://shop.test/", Source: "snapshot"}, nil},
		{"wait_network_idle", func(c *heal.Call) (any, error) { return c.WaitNetworkIdle(abi.IdleRequest{IdleMS: 500}) }, abi.FnWaitNetworkIdle,
			abi.ActResult{OK: true, URL: "http://shop.test/"}, nil},
		{"resolve", func(c *heal.Call) (any, error) {
			r, err := c.Resolve(abi.ResolveRequest{Target: abi.Target{Text: "Buy"}, Level: 1})
			return r.Method + " " + r.Element.XPath, err
		}, abi.FnResolve, "text " + buyButton.XPath, nil},
		{"candidates", func(c *heal.Call) (any, error) {
			r, err := c.Candidates(abi.ResolveRequest{Target: abi.Target{Text: "Buy"}})
			return r.Score, err
		}, abi.FnCandidates, 0.91, nil},
		{"locate_text", func(c *heal.Call) (any, error) { return c.LocateText(abi.LocateTextRequest{Text: "Buy"}) }, abi.FnLocateText,
			abi.TextLocation{Found: true, Point: abi.Point{X: 50, Y: 35}, Text: "Buy", Ratio: 1}, nil},
		{"lookup_host", func(c *heal.Call) (any, error) { return c.LookupHost(abi.LookupRequest{Host: "shop.test"}) }, abi.FnLookupHost,
			"shop.test [127.0.0.1]", nil},
		{"now", func(c *heal.Call) (any, error) { return c.Now().Equal(healtest.Epoch), nil }, abi.FnNowMS, true, nil},
		{"remaining", func(c *heal.Call) (any, error) { return c.Remaining(), nil }, abi.FnRemainingMS, 10 * time.Second, nil},
		{"log", func(c *heal.Call) (any, error) { c.Logf(heal.LevelWarn, "n=%d", 7); return nil, nil }, abi.FnLog, nil,
			func(t *testing.T, h *healtest.Host) {
				if logs := h.Logs(); len(logs) != 1 || logs[0] != (healtest.LogEntry{Level: abi.LogWarn, Message: "n=7"}) {
					t.Errorf("logs = %+v", logs)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			var callErr error
			name := register(t, func(c *heal.Call) abi.Result {
				got, callErr = tt.call(c)
				return heal.Retry("")
			})
			h := healtest.NewHost().
				SetPage(abi.PageInfo{URL: "http://shop.test/", Title: "Shop", ReadyState: "complete"}).
				AddElements(buyButton).
				OnResolve(func(abi.ResolveRequest) (abi.Resolution, error) { return resolution, nil }).
				OnCandidates(func(abi.ResolveRequest) (abi.Resolution, error) { return resolution, nil }).
				OnLocateText(func(r abi.LocateTextRequest) (abi.TextLocation, error) {
					return abi.TextLocation{Found: true, Point: abi.Point{X: 50, Y: 35}, Text: r.Text, Ratio: 1}, nil
				}).
				OnLookupHost(func(r abi.LookupRequest) (abi.LookupResult, error) {
					return abi.LookupResult{Host: r.Host, Addrs: []string{"127.0.0.1"}}, nil
				})
			if _, err := h.Run(name, clickRequest("#buy")); err != nil {
				t.Fatal(err)
			}
			if callErr != nil {
				t.Fatalf("%s: %v", tt.name, callErr)
			}
			if lr, ok := got.(abi.LookupResult); ok {
				got = fmt.Sprint(lr.Host, " ", lr.Addrs)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if n := h.Calls(tt.fn); n != 1 {
				t.Errorf("%s called %d times, want 1", tt.fn.Name, n)
			}
			if tt.check != nil {
				tt.check(t, h)
			}
		})
	}
}

// A response larger than the SDK's buffer is fetched with heal_host.take.
func TestPendingResponse(t *testing.T) {
	h := healtest.NewHost()
	for i := range 400 {
		el := buyButton
		el.Text = strings.Repeat("long text ", 10)
		el.XPath = fmt.Sprintf("/html[1]/body[1]/button[%d]", i+1)
		h.AddElements(el)
	}
	var got int
	name := register(t, func(c *heal.Call) abi.Result {
		s, err := c.Snapshot()
		if err != nil {
			return heal.Abort(err.Error())
		}
		got = len(s.Elements)
		return heal.Retry("")
	})
	if _, err := h.Run(name, clickRequest("#buy")); err != nil {
		t.Fatal(err)
	}
	if got != 400 {
		t.Errorf("snapshot had %d elements, want 400", got)
	}
	if n := h.Calls(abi.FnTake); n != 1 {
		t.Errorf("take called %d times, want 1", n)
	}
}

func TestHostErrors(t *testing.T) {
	long := strings.Repeat("m", 1000)
	tests := []struct {
		name     string
		inject   error
		sentinel error
		is       func(error) bool
		status   int32
		message  string
	}{
		{"not found", fmt.Errorf("%w: no element matches #buy", abi.ErrNotFound), heal.ErrNotFound, heal.IsNotFound, abi.StatusNotFound, "not found: no element matches #buy"},
		{"unavailable", abi.ErrUnavailable, heal.ErrUnavailable, heal.IsUnavailable, abi.StatusUnavailable, "unavailable"},
		{"failed with a long message", errors.New(long), heal.ErrFailed, nil, abi.StatusFailed, long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			name := register(t, func(c *heal.Call) abi.Result {
				_, got = c.ScrollIntoView(abi.Locator{CSS: "#buy"})
				return heal.GiveUp("")
			})
			h := healtest.NewHost().AddElements(buyButton).Fail(abi.FnScrollIntoView, tt.inject)
			if _, err := h.Run(name, clickRequest("#buy")); err != nil {
				t.Fatal(err)
			}
			var he *heal.HostError
			if !errors.As(got, &he) {
				t.Fatalf("error %v is not a *HostError", got)
			}
			want := heal.HostError{Func: "heal_browser_act.scroll_into_view", Status: tt.status, Message: tt.message}
			if *he != want {
				t.Errorf("got %+v, want %+v", *he, want)
			}
			if !errors.Is(got, tt.sentinel) || tt.is != nil && !tt.is(got) {
				t.Errorf("%v does not match %v", got, tt.sentinel)
			}
			if errors.Is(got, heal.ErrTimeout) {
				t.Errorf("%v matches ErrTimeout", got)
			}
		})
	}
}

func TestFailNextThenSucceed(t *testing.T) {
	var errs []error
	name := register(t, func(c *heal.Call) abi.Result {
		for range 3 {
			_, err := c.Exists(abi.Query{CSS: "#buy"})
			errs = append(errs, err)
		}
		return heal.Retry("")
	})
	h := healtest.NewHost().AddElements(buyButton).FailNext(abi.FnExists, 2, fmt.Errorf("flaky: %w", abi.ErrUnavailable))
	if _, err := h.Run(name, clickRequest("#buy")); err != nil {
		t.Fatal(err)
	}
	if !heal.IsUnavailable(errs[0]) || !heal.IsUnavailable(errs[1]) || errs[2] != nil {
		t.Errorf("errors = %v, want two unavailable then nil", errs)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   heal.Strategy
		host func(*healtest.Host)
		want error
	}{
		{"panic traps", func(c *heal.Call) abi.Result { panic("boom") }, nil, healtest.ErrTrap},
		{"empty outcome", func(c *heal.Call) abi.Result { return abi.Result{Message: "?"} }, nil, healtest.ErrBadResult},
		{"use_element without element", func(c *heal.Call) abi.Result {
			return abi.Result{Outcome: abi.OutcomeUseElement}
		}, nil, healtest.ErrBadResult},
		{"result too large", func(c *heal.Call) abi.Result { return heal.GiveUp(strings.Repeat("x", 200)) },
			func(h *healtest.Host) { h.SetMaxResultBytes(100) }, healtest.ErrResultTooLarge},
		{"host-call flood", func(c *heal.Call) abi.Result {
			for {
				c.Log(heal.LevelDebug, "again")
			}
		}, func(h *healtest.Host) { h.SetHostCallBudget(50) }, healtest.ErrHostCallBudget},
		{"wait past the deadline", func(c *heal.Call) abi.Result {
			_, err := c.WaitForSelector(abi.Locator{CSS: "#never"})
			if !heal.IsTimeout(err) {
				panic(fmt.Sprintf("want a timeout, got %v", err))
			}
			return heal.GiveUp("")
		}, nil, healtest.ErrDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := register(t, tt.fn)
			h := healtest.NewHost()
			if tt.host != nil {
				tt.host(h)
			}
			_, err := h.Run(name, clickRequest("#buy"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the strategy", err)
			}
		})
	}
	if _, err := healtest.Run("no_such_strategy", abi.Request{}); !errors.Is(err, healtest.ErrUnknownStrategy) {
		t.Errorf("unknown strategy: err = %v", err)
	}
}

func TestSleepHonoursDeadline(t *testing.T) {
	var full, cut bool
	var left time.Duration
	name := register(t, func(c *heal.Call) abi.Result {
		full = c.Sleep(300 * time.Millisecond)
		cut = c.Sleep(time.Hour)
		left = c.Remaining()
		return heal.GiveUp("")
	})
	h := healtest.NewHost()
	req := clickRequest("#buy")
	req.DeadlineMS = 1000
	if _, err := h.Run(name, req); err != nil {
		t.Fatal(err)
	}
	if !full || cut {
		t.Errorf("full sleep completed=%v, long sleep completed=%v", full, cut)
	}
	// The grace period is min(50 ms, timeout/10) = 50 ms for a 1 s call.
	if left != 50*time.Millisecond || h.Elapsed() != 950*time.Millisecond {
		t.Errorf("remaining %v after %v, want 50ms after 950ms", left, h.Elapsed())
	}
}

func TestConfig(t *testing.T) {
	type cfg struct {
		PollMS int    `json:"poll_ms"`
		Mode   string `json:"mode"`
	}
	tests := []struct {
		name    string
		config  string
		want    cfg
		wantErr bool
	}{
		{"absent keeps defaults", "", cfg{100, "fast"}, false},
		{"null keeps defaults", "null", cfg{100, "fast"}, false},
		{"partial override", `{"poll_ms": 20}`, cfg{20, "fast"}, false},
		{"wrong type", `{"poll_ms": "soon"}`, cfg{100, "fast"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &heal.Call{Request: abi.Request{Strategy: "s", Config: json.RawMessage(tt.config)}}
			got := cfg{100, "fast"}
			err := c.Config(&got)
			if (err != nil) != tt.wantErr || err == nil && got != tt.want {
				t.Errorf("Config(%s) = %+v, %v", tt.config, got, err)
			}
			if err != nil && !strings.Contains(err.Error(), `strategy "s"`) {
				t.Errorf("error %q does not name the strategy", err)
			}
		})
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	name := register(t, func(*heal.Call) abi.Result { return heal.Retry("") })
	for _, tt := range []struct {
		name string
		fn   heal.Strategy
	}{{"", func(*heal.Call) abi.Result { return heal.Retry("") }}, {"nil_fn", nil}, {name, func(*heal.Call) abi.Result { return heal.Retry("") }}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tt.name)
				}
			}()
			heal.Register(tt.name, tt.fn)
		}()
	}
}

func TestResultHelpers(t *testing.T) {
	el := buyButton
	tests := []struct {
		got  abi.Result
		want string
	}{
		{heal.Retry("again"), `{"outcome":"retry","message":"again"}`},
		{heal.RetryWith(abi.RetryOptions{TimeoutMS: 9000}, "longer"), `{"outcome":"retry","message":"longer","retry":{"timeout_ms":9000}}`},
		{heal.UsePoint(abi.Point{X: 1, Y: 2}, "ocr"), `{"outcome":"use_element","message":"ocr","point":{"x":1,"y":2}}`},
		{heal.GiveUp("no"), `{"outcome":"give_up","message":"no"}`},
		{heal.Abort("human"), `{"outcome":"abort","message":"human"}`},
		{heal.WithDetails(heal.GiveUp(""), map[string]int{"n": 1}), `{"outcome":"give_up","details":{"n":1}}`},
		{heal.WithDetails(heal.GiveUp(""), func() {}), `{"outcome":"give_up","details":{"details_error":"json: unsupported type: func()"}}`},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(tt.got)
		if string(b) != tt.want {
			t.Errorf("got %s, want %s", b, tt.want)
		}
	}
	if r := heal.UseElement(el, "m"); r.Element == nil || r.Element.XPath != el.XPath || r.Outcome != abi.OutcomeUseElement {
		t.Errorf("UseElement = %+v", r)
	}
}

func TestLocatorOf(t *testing.T) {
	tests := []struct {
		target *abi.Target
		want   abi.Locator
		ok     bool
	}{
		{nil, abi.Locator{}, false},
		{&abi.Target{Text: "Buy"}, abi.Locator{}, false},
		{&abi.Target{CSS: "#a", XPath: "/x"}, abi.Locator{CSS: "#a"}, true},
		{&abi.Target{XPath: "/x"}, abi.Locator{XPath: "/x"}, true},
	}
	for _, tt := range tests {
		got, ok := heal.LocatorOf(tt.target)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LocatorOf(%+v) = %+v, %v", tt.target, got, ok)
		}
		q, ok := heal.QueryOf(tt.target)
		if q.CSS != tt.want.CSS || q.XPath != tt.want.XPath || ok != tt.ok {
			t.Errorf("QueryOf(%+v) = %+v, %v", tt.target, q, ok)
		}
	}
	if (&heal.Call{}).Target() == nil {
		t.Error("Target() of an action without target is nil")
	}
}
