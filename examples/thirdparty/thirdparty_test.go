package thirdparty_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/examples/thirdparty"
)

// TestWorkflowsHealWithThirdPartyPlugins runs each example workflow
// through the engine in Chromium, with the built plugins of build/plugins,
// and checks that its step failed first and was healed by the third-party
// plugin's strategy, whose call count went up.
func TestWorkflowsHealWithThirdPartyPlugins(t *testing.T) {
	// Only the two third-party plugins are loaded (linked from
	// build/plugins), so the test does not wait for the built-in set to
	// compile; the workflows name their strategies anyway.
	built, err := filepath.Abs(filepath.Join("..", "..", "build", "plugins"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"go-wait-visible", "c-scroll"} {
		if _, err := os.Stat(filepath.Join(built, id, "manifest.toml")); err != nil {
			t.Fatalf("plugin %s is not built (%v): run `make wasm` at the repository root first", id, err)
		}
		if err := os.Symlink(filepath.Join(built, id), filepath.Join(plugins, id)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{DB: filepath.Join(dir, "history.db"), PluginDirs: []string{plugins},
		Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	srv := httptest.NewServer(thirdparty.Handler())
	defer srv.Close()

	calls := func(pluginID string) uint64 {
		for _, p := range eng.Plugins() {
			if p.ID == pluginID {
				return p.Stats.Calls
			}
		}
		t.Fatalf("plugin %s is not loaded", pluginID)
		return 0
	}
	for _, tc := range []struct {
		file, plugin, strategy, language string
	}{
		{"wait-visible.toml", "go-wait-visible", "wait_until_visible", "Go"},
		{"scroll-lazy.toml", "c-scroll", "scroll_then_retry", "C"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			wf, err := engine.LoadWorkflow(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var provided []string
			for _, p := range eng.Plugins() {
				if p.ID == tc.plugin {
					provided = p.Strategies
				}
			}
			if !slices.Contains(provided, tc.strategy) {
				t.Fatalf("%s is not provided by the %s plugin %s (it provides %v)", tc.strategy, tc.language, tc.plugin, provided)
			}
			before := calls(tc.plugin)
			rep, err := eng.Run(ctx, wf, engine.RunOptions{BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed || rep.Healed != 1 {
				t.Fatalf("workflow passed=%t healed=%d: %+v", rep.Passed, rep.Healed, rep.Steps)
			}
			var healer string
			for _, st := range rep.Steps {
				if !st.Healed {
					continue
				}
				for _, a := range st.Attempts {
					if a.Success {
						healer = a.Strategy
					}
				}
			}
			if healer != tc.strategy {
				t.Fatalf("healed by %q, want %s: %+v", healer, tc.strategy, rep.Steps)
			}
			if after := calls(tc.plugin); after <= before {
				t.Fatalf("plugin %s served no call (%d before, %d after)", tc.plugin, before, after)
			}
		})
	}
}
