package host_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/host"
)

// sharedRuntime serves every test of the binary; tests that need their own
// (to close it) create one with newRuntime.
var sharedRuntime *host.Runtime

func TestMain(m *testing.M) {
	ctx := context.Background()
	// A cache that survives test runs: compiling the Go guests with the race
	// detector on takes seconds, and the cache is keyed by module hash and
	// wazero version, so reuse is safe.
	dir := filepath.Join("..", "build", "cache", "wazero-host-test")
	var err error
	sharedRuntime, err = host.NewRuntime(ctx, host.NewConfig().WithCacheDir(dir))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	_ = sharedRuntime.Close(ctx)
	os.Exit(code)
}

func newRuntime(t testing.TB, logger hclog.Logger) *host.Runtime {
	t.Helper()
	cfg := host.NewConfig().WithCacheDir(t.TempDir())
	if logger != nil {
		cfg = cfg.WithLogger(logger)
	}
	rt, err := host.NewRuntime(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// fixture describes a plugin written to a temporary folder.
type fixture struct {
	wasm       string   // path under testdata
	id         string   // default "fixture"
	strategies []string // default ["run"]
	grants     []string
	extra      string // more TOML (e.g. a [limits] table)
	sha        string // overrides the computed sha256
}

// write copies the module next to a manifest in a new folder and returns
// the manifest's path.
func (f fixture) write(t testing.TB) string {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("testdata", f.wasm))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "module.wasm"), code, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	sha := hex.EncodeToString(sum[:])
	if f.sha != "" {
		sha = f.sha
	}
	id := f.id
	if id == "" {
		id = "fixture"
	}
	strategies := f.strategies
	if strategies == nil {
		strategies = []string{"run"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "id = %q\nversion = \"1.0.0\"\nabi = \"1.0\"\nmodule = \"module.wasm\"\nsha256 = %q\n", id, sha)
	fmt.Fprintf(&b, "strategies = [%s]\ngrants = [%s]\n%s\n", quoteList(strategies), quoteList(f.grants), f.extra)
	path := filepath.Join(dir, "manifest.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// goodFixture is testdata/good.wasm with its four strategies.
var goodFixture = fixture{
	wasm:       "good.wasm",
	id:         "good",
	strategies: []string{"page_info", "take_page", "bad_query", "sleep_long"},
	grants:     []string{"browser", "time", "log"},
}

func load(t testing.TB, rt *host.Runtime, f fixture) *host.Plugin {
	t.Helper()
	p, err := rt.Load(context.Background(), f.write(t))
	if err != nil {
		t.Fatalf("Load(%s): %v", f.wasm, err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}
