package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
)

// One engine, hence one Chromium, serves every test of the binary; each test
// opens its own session (tab), so its history is its own.
var eng *engine.Engine

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	plugins, err := filepath.Abs(filepath.Join("..", "build", "plugins"))
	if err == nil {
		_, err = os.Stat(filepath.Join(plugins, "selfheal.builtin", "manifest.toml"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the built-in strategies are not built (%v); run `make wasm` first\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "selfheal-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cacheDir := filepath.Join(dir, "cache")
	if err := linkCompileCache(cacheDir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	eng, err = engine.New(ctx, engine.Config{
		DB:           filepath.Join(dir, "history.db"),
		PluginDirs:   []string{plugins},
		PatternsFile: filepath.Join("testdata", "patterns.toml"),
		CacheDir:     cacheDir,
		ChromiumPath: os.Getenv("ENGINE_TEST_CHROMIUM"),
		// The seed's order makes the strategy sequence of every scenario
		// known in advance; learned selection has its own tests.
		Ordered: true,
		Backoff: 50 * time.Millisecond,
		Logger:  hclog.New(&hclog.LoggerOptions{Name: "e2e", Level: hclog.Warn, Output: os.Stderr}),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the engine:", err)
		return 1
	}
	code := m.Run()
	if err := eng.Close(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: closing the engine:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// linkCompileCache points the engine's wazero cache at a directory that
// outlives the run: compiling the Go guest without a cache takes seconds
// under the race detector, and a fresh temporary cache would pay that
// every run.
func linkCompileCache(cacheDir string) error {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	shared := filepath.Join(base, "selfheal-e2e", "wazero")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	return os.Symlink(shared, filepath.Join(cacheDir, "wazero"))
}
