package classify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func mustLoad(t testing.TB, path string, opts ...Option) *Classifier {
	t.Helper()
	c, err := Load(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The six patterns of the design document, as it lists them, with
// click_intercepted before action_execution_failure.
func TestDefaultsAreTheSeedPatterns(t *testing.T) {
	c := mustLoad(t, "")
	type strat struct {
		name   string
		params string
	}
	want := []struct {
		name, sig string
		rate      float64
		strats    []strat
	}{
		{"element_not_found", `ElementNotFoundError|NoSuchElementException|Element .* not found`, 0.85,
			[]strat{{"wait_longer", `{"timeout_ms":5000}`}, {"scroll_into_view", `{}`}, {"use_vision_fallback", `{}`}}},
		{"timeout", `TimeoutError|Timeout.*exceeded`, 0.70,
			[]strat{{"retry_with_longer_timeout", `{"multiplier":2}`}, {"check_network_idle", `{}`}, {"reload_page", `{}`}}},
		{"security_challenge", `Cloudflare|CAPTCHA|reCAPTCHA|Security check`, 0.30,
			[]strat{{"wait_for_manual_intervention", `{"timeout_ms":60000}`}, {"use_different_approach", `{}`}}},
		{"page_load_failure", `ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED`, 0.60,
			[]strat{{"retry_navigation", `{"max_retries":3}`}, {"check_dns", `{}`}, {"use_cached_version", `{}`}}},
		{"click_intercepted", `is not clickable|would receive the click|intercepted`, 0.75,
			[]strat{{"dismiss_overlay", `{}`}, {"wait_and_retry", `{"delay_ms":1000}`}, {"use_alternative_selector", `{}`}}},
		{"action_execution_failure", `Click failed|Type failed|Action .* failed`, 0.75,
			[]strat{{"wait_and_retry", `{"delay_ms":1000}`}, {"use_alternative_selector", `{}`}, {"refresh_dom_state", `{}`}, {"dismiss_overlay", `{}`}}},
		{"network_error", `ERR_INTERNET_DISCONNECTED|Network error`, 0.50,
			[]strat{{"wait_for_reconnection", `{"timeout_ms":30000}`}, {"retry_request", `{"backoff":"exponential","initial_delay_ms":500,"max_retries":3,"multiplier":2}`}}},
	}
	ps := c.Patterns()
	if len(ps) != len(want) {
		t.Fatalf("%d patterns, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.Name() != w.name || p.Signature() != w.sig || p.ExpectedRate() != w.rate {
			t.Errorf("pattern %d = %s %q %v, want %s %q %v", i, p.Name(), p.Signature(), p.ExpectedRate(), w.name, w.sig, w.rate)
		}
		ss := p.Strategies()
		if len(ss) != len(w.strats) {
			t.Errorf("%s: %d strategies, want %d", w.name, len(ss), len(w.strats))
			continue
		}
		for j, s := range ss {
			if s.Name() != w.strats[j].name || string(s.ParamsJSON()) != w.strats[j].params {
				t.Errorf("%s strategy %d = %s %s, want %s %s", w.name, j, s.Name(), s.ParamsJSON(), w.strats[j].name, w.strats[j].params)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	c := mustLoad(t, "")
	deadline, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-deadline.Done()
	tests := []struct {
		name       string
		err        error
		msg        string
		wantType   string
		wantSignal string
	}{
		{"selenium not found", errors.New("NoSuchElementException: #buy"), "", "element_not_found", ""},
		{"element text", nil, "Element #submit not found on page", "element_not_found", ""},
		{"case-insensitive", nil, "element .x NOT FOUND", "element_not_found", ""},
		{"playwright timeout", nil, "TimeoutError: waiting for selector", "timeout", ""},
		{"timeout exceeded", nil, "Timeout 30000ms exceeded.", "timeout", ""},
		{"context deadline", fmt.Errorf("click #a: %w", deadline.Err()), "", "timeout", "context.DeadlineExceeded"},
		{"captcha", nil, "Please complete the reCAPTCHA", "security_challenge", ""},
		{"load error refused", &chromedp.LoadError{ErrorText: "net::ERR_CONNECTION_REFUSED"}, "", "page_load_failure", "net::ERR_CONNECTION_REFUSED"},
		{"load error dns", fmt.Errorf("navigate: %w", &chromedp.LoadError{ErrorText: "net::ERR_NAME_NOT_RESOLVED"}), "", "page_load_failure", "net::ERR_NAME_NOT_RESOLVED"},
		{"load error offline", &chromedp.LoadError{ErrorText: "net::ERR_INTERNET_DISCONNECTED"}, "", "network_error", "net::ERR_INTERNET_DISCONNECTED"},
		{"load error other code", &chromedp.LoadError{ErrorText: "net::ERR_CERT_INVALID"}, "", "page_load_failure", "chromedp.ErrPageLoad"},
		{"net code in text", nil, "navigation failed: net::ERR_CONNECTION_RESET", "page_load_failure", "net::ERR_CONNECTION_RESET"},
		{"not visible", fmt.Errorf("click: %w", chromedp.ErrNotVisible), "", "element_not_found", "chromedp.ErrNotVisible"},
		{"disabled", chromedp.ErrDisabled, "", "action_execution_failure", "chromedp.ErrDisabled"},
		{"click failed", nil, "Click failed: element detached", "action_execution_failure", ""},
		{"intercepted", nil, "Element is not clickable at point (10, 20). Other element would receive the click: <div class=overlay>", "click_intercepted", ""},
		{"click intercepted", nil, "element click intercepted", "click_intercepted", ""},
		{"click failed, intercepted", nil, "Click failed on css=\"#buy\": click intercepted: intercepted by <div #cookie>", "click_intercepted", ""},
		{"network text", nil, "Network error while fetching", "network_error", ""},
		{"nothing", errors.New("the moon is made of cheese"), "", Unknown, ""},
		{"empty", nil, "", Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.err, tt.msg)
			if got.Type != tt.wantType || got.Signal != tt.wantSignal {
				t.Errorf("Classify = %s (signal %q), want %s (signal %q)", got.Type, got.Signal, tt.wantType, tt.wantSignal)
			}
			if got.Pattern == nil || got.Pattern.Name() != got.Type {
				t.Errorf("Pattern = %v, want the %s pattern", got.Pattern, got.Type)
			}
		})
	}
}

func TestUnknownChain(t *testing.T) {
	c := mustLoad(t, "")
	got := c.ClassifyMessage("???")
	var names []string
	for _, s := range got.Pattern.Strategies() {
		names = append(names, s.Name())
	}
	if strings.Join(names, ",") != "wait_and_retry,refresh_dom_state" {
		t.Errorf("default unknown chain = %v", names)
	}
}

func TestUserFile(t *testing.T) {
	_, err := Load("testdata/user.toml")
	if !errors.Is(err, ErrBadPattern) || !strings.Contains(err.Error(), `unknown strategy "relogin"`) {
		t.Fatalf("without the plugin strategy: err = %v", err)
	}
	c := mustLoad(t, "testdata/user.toml", WithExtraStrategies("relogin"))
	got := c.ClassifyMessage("Your session has expired")
	if got.Type != "login_expired" {
		t.Fatalf("Type = %s, want login_expired", got.Type)
	}
	if v, _ := got.Pattern.Strategy(0).Param("form"); v != "#login" {
		t.Errorf("param form = %v", v)
	}
	to, _ := c.Pattern("timeout")
	if to.ExpectedRate() != 0.9 || to.Signature() != `TimeoutError|Timeout.*exceeded` || to.NumStrategies() != 3 {
		t.Errorf("override changed more than the rate: %v %q %d", to.ExpectedRate(), to.Signature(), to.NumStrategies())
	}
	if u := c.UnknownPattern(); u.NumStrategies() != 1 || u.Strategy(0).Name() != "reload_page" {
		t.Errorf("unknown chain not overridden: %v", u.Strategies())
	}
	if len(c.Patterns()) != 8 || c.Patterns()[0].Name() != "login_expired" {
		t.Errorf("new user patterns must come first")
	}
}

func TestBadUserFiles(t *testing.T) {
	tests := []struct {
		file, pattern, reason string
	}{
		{"regex.toml", "broken", "invalid regular expression"},
		{"strategy.toml", "mystery", `unknown strategy "summon_wizard"`},
		{"duplicate.toml", "twice", "duplicate pattern name"},
		{"key.toml", "typo", `unknown key "signatur"`},
		{"strategykey.toml", "flat_params", `unknown key "timeout_ms"`},
		{"rate.toml", "too_hopeful", "outside 0..1"},
		{"syntax.toml", "", "syntax.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			_, err := Load(path)
			var pe *PatternError
			if !errors.As(err, &pe) || !errors.Is(err, ErrBadPattern) {
				t.Fatalf("err = %v, want a *PatternError", err)
			}
			if pe.File != path || pe.Pattern != tt.pattern || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %v (file %q, pattern %q), want file %q, pattern %q, reason %q", err, pe.File, pe.Pattern, path, tt.pattern, tt.reason)
			}
		})
	}
	if _, err := Load("testdata/missing.toml"); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestImmutable(t *testing.T) {
	c := mustLoad(t, "")
	p, _ := c.Pattern("element_not_found")
	s := p.Strategies()
	s[0] = Strategy{}
	params := p.Strategy(0).Params()
	params["timeout_ms"] = 1
	js := p.Strategy(0).ParamsJSON()
	js[0] = 'x'
	if p.Strategy(0).Name() != "wait_longer" || string(p.Strategy(0).ParamsJSON()) != `{"timeout_ms":5000}` {
		t.Error("pattern changed through a returned value")
	}
}

// The prefilter must never hide a pattern that matches: compare with
// running every expression.
func TestPrefilterAgreesWithRegexps(t *testing.T) {
	c := manyPatterns(t, 300)
	msgs := []string{
		"ElementNotFoundError", "custom failure 17 happened", "CUSTOM FAILURE 299 HAPPENED",
		"widget-42 broke", "a b c", "", "net::ERR_CONNECTION_REFUSED", "zzz 5 qqq", "thing#250!",
		"Timeout 5ms exceeded", "custom failure 1",
	}
	for _, m := range msgs {
		var want *Pattern
		for _, p := range c.patterns {
			if p.matches(m) {
				want = p
				break
			}
		}
		got := c.match(m)
		if got != want {
			t.Errorf("match(%q) = %v, want %v", m, name(got), name(want))
		}
	}
}

func name(p *Pattern) string {
	if p == nil {
		return "<nil>"
	}
	return p.Name()
}

func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"custom failure 3 happened", "Element x not found", "widget-7 broke", "thing#1!"} {
		f.Add(s)
	}
	c := manyPatterns(f, 50)
	f.Fuzz(func(t *testing.T, msg string) {
		var want *Pattern
		for _, p := range c.patterns {
			if p.matches(msg) {
				want = p
				break
			}
		}
		if got := c.match(msg); got != want {
			t.Errorf("match(%q) = %v, want %v", msg, name(got), name(want))
		}
	})
}
