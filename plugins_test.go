package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/pluginwatch"
)

// writeFixture writes version n of internal/pluginwatch's versioned WAT
// fixture as plugin "fx" into folder; grants empty makes it unloadable.
func writeFixture(t *testing.T, folder string, n int, grants string) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join("internal", "pluginwatch", "testdata", "versioned.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(mod, []byte("fixture v000"))
	copy(mod[i:], fmt.Sprintf("fixture v%03d", n))
	sum := sha256.Sum256(mod)
	manifest := fmt.Sprintf("id = \"fx\"\nversion = \"1.0.%d\"\nabi = \"1.0\"\nmodule = \"versioned.wasm\"\nsha256 = %q\n"+
		"strategies = [\"versioned\"]\ngrants = %s\n", n, hex.EncodeToString(sum[:]), grants)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "versioned.wasm"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "manifest.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReloadPluginsRecordsSwaps: reloads swap, refuse and remove, and
// each is in the history store with versions and hashes.
func TestReloadPluginsRecordsSwaps(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	folder := filepath.Join(plugins, "fx")
	writeFixture(t, folder, 1, `["log"]`)
	eng, err := engine.New(ctx, engine.Config{DB: filepath.Join(dir, "h.db"), CacheDir: dir, PluginDirs: []string{plugins}, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	if ps := eng.Plugins(); len(ps) != 1 || ps[0].Version != "1.0.1" {
		t.Fatalf("plugins at start: %+v", ps)
	}

	for _, st := range []struct {
		change  func()
		outcome string
		version string // serving afterwards; "" for none
	}{
		{func() { writeFixture(t, folder, 2, `["log"]`) }, "swapped", "1.0.2"},
		{func() { writeFixture(t, folder, 3, `[]`) }, "rejected", "1.0.2"},
		{func() { _ = os.RemoveAll(folder) }, "removed", ""},
	} {
		st.change()
		rs, err := eng.ReloadPlugins(ctx)
		if err != nil || len(rs) != 1 || rs[0].Outcome != st.outcome {
			t.Fatalf("ReloadPlugins = %+v, %v; want one %s", rs, err, st.outcome)
		}
		ps := eng.Plugins()
		if st.version == "" && len(ps) != 0 || st.version != "" && (len(ps) != 1 || ps[0].Version != st.version) {
			t.Fatalf("after %s: plugins %+v, want version %q", st.outcome, ps, st.version)
		}
	}
	swaps, err := eng.PluginSwaps(ctx, "fx")
	if err != nil {
		t.Fatal(err)
	}
	if len(swaps) != 3 {
		t.Fatalf("recorded swaps: %+v", swaps)
	}
	removed, rejected, swapped := swaps[0], swaps[1], swaps[2] // newest first
	if swapped.Outcome != "swapped" || swapped.OldVersion != "1.0.1" || swapped.NewVersion != "1.0.2" ||
		len(swapped.OldSHA256) != 64 || len(swapped.NewSHA256) != 64 || swapped.OldSHA256 == swapped.NewSHA256 {
		t.Errorf("swap row %+v", swapped)
	}
	if rejected.Outcome != "rejected" || rejected.NewVersion != "1.0.3" || rejected.OldVersion != "1.0.2" || rejected.Reason == "" {
		t.Errorf("refusal row %+v", rejected)
	}
	if removed.Outcome != "removed" || removed.OldVersion != "1.0.2" {
		t.Errorf("removal row %+v", removed)
	}
}

// TestWatchPlugins: a version written into a watched folder serves
// without a reload call.
func TestWatchPlugins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{DB: filepath.Join(dir, "h.db"), CacheDir: dir, PluginDirs: []string{plugins}, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.WatchPlugins(ctx) }()
	// The watcher watches once WatchPlugins has set it up; a folder
	// created before that is still picked up by later writes, so write
	// until it serves.
	deadline := time.Now().Add(10 * time.Second)
	for n := 1; ; n++ {
		writeFixture(t, filepath.Join(plugins, "fx"), n, `["log"]`)
		time.Sleep(300 * time.Millisecond)
		if ps := eng.Plugins(); len(ps) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watched folder's plugin never loaded")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := eng.LoadPlugin(context.Background(), filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("LoadPlugin of an empty folder: %v", err)
	}
	writeFixture(t, filepath.Join(dir, "again"), 1, `["log"]`)
	if _, err := eng.LoadPlugin(context.Background(), filepath.Join(dir, "again")); !errors.Is(err, pluginwatch.ErrDuplicateID) {
		t.Fatalf("LoadPlugin of a second folder with id fx = %v, want ErrDuplicateID", err)
	}
	writeFixture(t, filepath.Join(plugins, "fx"), 99, `[]`)
	if _, err := eng.LoadPlugin(context.Background(), filepath.Join(plugins, "fx")); !errors.Is(err, host.ErrUngrantedImport) {
		t.Fatalf("LoadPlugin of an ungranted version = %v, want ErrUngrantedImport", err)
	}
}
