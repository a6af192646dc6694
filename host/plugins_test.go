package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// Guests built by `make wasm` (other toolchains than wat2wasm).
const (
	builtPlugins = "../build/plugins"
	goPanicGuest = "../build/hosttest/gopanic/manifest.toml"
)

func builtManifests(t testing.TB) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(builtPlugins, "*", "manifest.toml"))
	if len(paths) == 0 {
		t.Fatalf("no plugins under %s: run `make wasm` at the repository root first", builtPlugins)
	}
	return paths
}

func builtManifest(t testing.TB, id string) string {
	t.Helper()
	path := filepath.Join(builtPlugins, id, "manifest.toml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run `make wasm` at the repository root first", path)
	}
	return path
}

// buyPage is a page whose "Buy now" button the example strategies can find.
func buyPage() *hosttest.Fakes {
	return hosttest.New("http://shop.test/cart", abi.Element{
		Index: 0, Tag: "button", Attrs: map[string]string{"id": "buy", "class": "btn primary"},
		Text: "Buy now", VisibleText: "Buy now", Role: "button", Name: "Buy now",
		XPath: "/html[1]/body[1]/button[1]", Rect: abi.Rect{X: 10, Y: 20, Width: 80, Height: 30},
		Visible: true, Enabled: true,
	})
}

func buyRequest(strategy string) abi.Request {
	return abi.Request{
		Strategy: strategy,
		Error:    abi.ErrorInfo{Type: "element_not_found", Message: "waiting for #buy: not found"},
		Action:   abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy", Text: "Buy now"}, TimeoutMS: 5000},
		Attempt:  1,
		Healing:  abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
		PageURL:  "http://shop.test/cart",
	}
}

// TestBuiltPlugins loads every plugin the build produced and runs each of
// its strategies once against fakes.
func TestBuiltPlugins(t *testing.T) {
	for _, path := range builtManifests(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			p, err := sharedRuntime.Load(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			for _, s := range p.Manifest().Strategies() {
				f := buyPage()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				res, err := p.Call(ctx, f.Env(), buyRequest(s))
				cancel()
				if err != nil {
					t.Fatalf("strategy %s: %v", s, err)
				}
				if !res.Outcome.Valid() {
					t.Fatalf("strategy %s: outcome %q", s, res.Outcome)
				}
				t.Logf("%s: %s %q; host calls: browser %d, resolver %d", s, res.Outcome, res.Message,
					len(f.Browser.Calls()), len(f.Resolver.Calls()))
			}
		})
	}
}

func TestGoGuestPanicIsATrap(t *testing.T) {
	if _, err := os.Stat(goPanicGuest); err != nil {
		t.Fatalf("%s is missing: run `make wasm` at the repository root first", goPanicGuest)
	}
	p, err := sharedRuntime.Load(context.Background(), goPanicGuest)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	_, err = p.Call(context.Background(), host.Env{}, buyRequest("panic_now"))
	var ce *host.CallError
	if !errors.Is(err, host.ErrTrap) || !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CallError matching ErrTrap", err)
	}
	if !strings.Contains(ce.Stderr, "strategy exploded on click") {
		t.Errorf("the panic message is missing from the error's stderr: %q", ce.Stderr)
	}
	res, err := p.Call(context.Background(), host.Env{}, buyRequest("calm"))
	if err != nil || res.Message != "calm" {
		t.Fatalf("the plugin must keep serving after a panic: %+v %v", res, err)
	}
}
