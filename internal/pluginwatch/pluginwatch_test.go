package pluginwatch_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/pluginwatch"
)

// call runs the fixture's strategy and returns its message.
func call(ctx context.Context, reg *host.Registry) (string, error) {
	res, err := reg.Call(ctx, host.Env{}, abi.Request{Strategy: "versioned"})
	return res.Message, err
}

// TestReload walks one folder through the changes a plugin directory sees,
// checking after each what serves and what was reported.
func TestReload(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	t.Cleanup(func() { _ = reg.Close(ctx) })
	dir := t.TempDir()
	folder := filepath.Join(dir, "fx")

	var reported []pluginwatch.Result
	l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir},
		OnResult: func(_ context.Context, r pluginwatch.Result) { reported = append(reported, r) }})

	steps := []struct {
		name    string
		change  func()
		outcome string // "" when nothing should change
		serving string // the message calls get; "" when no plugin serves
		wantErr error  // of a rejected version
	}{
		{"empty directory", func() {}, "", "", nil},
		{"new plugin", func() { writeVersion(t, folder, "fx", 1, good) }, pluginwatch.Swapped, "fixture v001", nil},
		{"unchanged", func() {}, "", "fixture v001", nil},
		{"new version", func() { writeVersion(t, folder, "fx", 2, good) }, pluginwatch.Swapped, "fixture v002", nil},
		{"ungranted import", func() { writeVersion(t, folder, "fx", 3, ungranted) }, pluginwatch.Rejected, "fixture v002", host.ErrUngrantedImport},
		{"truncated module", func() { writeVersion(t, folder, "fx", 4, truncated) }, pluginwatch.Rejected, "fixture v002", host.ErrNotWasm},
		{"strategy missing", func() { writeVersion(t, folder, "fx", 5, strategies) }, pluginwatch.Rejected, "fixture v002", host.ErrManifest},
		{"module replaced under its manifest", func() {
			if err := os.WriteFile(filepath.Join(folder, "versioned.wasm"), moduleOf(t, 9), 0o644); err != nil {
				t.Fatal(err)
			}
		}, pluginwatch.Rejected, "fixture v002", host.ErrChecksum},
		{"manifest for another ABI", func() { writeVersion(t, folder, "fx", 7, badABI) }, pluginwatch.Rejected, "fixture v002", host.ErrABIVersion},
		{"good again", func() { writeVersion(t, folder, "fx", 6, good) }, pluginwatch.Swapped, "fixture v006", nil},
		{"folder removed", func() {
			if err := os.RemoveAll(folder); err != nil {
				t.Fatal(err)
			}
		}, pluginwatch.Removed, "", nil},
	}
	for _, st := range steps {
		reported = nil
		st.change()
		results, err := l.Reload(ctx)
		if err != nil {
			t.Fatalf("%s: Reload: %v", st.name, err)
		}
		if st.outcome == "" {
			if len(results) != 0 || len(reported) != 0 {
				t.Fatalf("%s: want no change, got %+v (reported %+v)", st.name, results, reported)
			}
		} else {
			if len(results) != 1 || results[0].Outcome != st.outcome || len(reported) != 1 {
				t.Fatalf("%s: want one %s, got %+v (reported %d)", st.name, st.outcome, results, len(reported))
			}
			if st.wantErr != nil && !errors.Is(results[0].Err, st.wantErr) {
				t.Fatalf("%s: error %v, want %v", st.name, results[0].Err, st.wantErr)
			}
			if results[0].PluginID != "fx" || results[0].Reason == "" && st.outcome != pluginwatch.Swapped {
				t.Fatalf("%s: result %+v names no plugin or reason", st.name, results[0])
			}
		}
		msg, err := call(ctx, reg)
		switch {
		case st.serving == "" && !errors.Is(err, host.ErrUnknownStrategy):
			t.Fatalf("%s: call = %q, %v; want no plugin", st.name, msg, err)
		case st.serving != "" && (err != nil || msg != st.serving):
			t.Fatalf("%s: call = %q, %v; want %q", st.name, msg, err, st.serving)
		}
	}
}

// TestReloadRecordsVersions checks the versions and hashes of a swap.
func TestReloadRecordsVersions(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	t.Cleanup(func() { _ = reg.Close(ctx) })
	dir := t.TempDir()
	folder := filepath.Join(dir, "fx")
	l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}})
	writeVersion(t, folder, "fx", 1, good)
	if err := l.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	old, _ := reg.Lookup("versioned")
	writeVersion(t, folder, "fx", 2, good)
	r, changed := l.ReloadFolder(ctx, folder)
	cur, _ := reg.Lookup("versioned")
	oldSum, newSum := old.Manifest().SHA256(), cur.Manifest().SHA256()
	if !changed || r.OldVersion != "1.0.1" || r.NewVersion != "1.0.2" ||
		r.OldSHA256 != hexOf(oldSum) || r.NewSHA256 != hexOf(newSum) || r.OldSHA256 == r.NewSHA256 {
		t.Fatalf("result %+v", r)
	}
}

// TestLoadAllRefusesBroken: at start a broken plugin is an error naming it.
func TestLoadAllRefusesBroken(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	t.Cleanup(func() { _ = reg.Close(ctx) })
	dir := t.TempDir()
	writeVersion(t, filepath.Join(dir, "a"), "a", 1, good)
	writeVersion(t, filepath.Join(dir, "b"), "b", 1, ungranted)
	err := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}}).LoadAll(ctx)
	if !errors.Is(err, host.ErrUngrantedImport) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("LoadAll = %v, want ErrUngrantedImport naming plugin b", err)
	}
	if err := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{filepath.Join(dir, "nope")}}).LoadAll(ctx); !errors.Is(err, pluginwatch.ErrFolder) {
		t.Fatalf("LoadAll of a missing directory = %v, want ErrFolder", err)
	}
}

// TestDuplicateID: a second folder with an installed id is refused.
func TestDuplicateID(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	t.Cleanup(func() { _ = reg.Close(ctx) })
	dir := t.TempDir()
	writeVersion(t, filepath.Join(dir, "a"), "same", 1, good)
	l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}})
	if err := l.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	writeVersion(t, filepath.Join(dir, "b"), "same", 2, good)
	results, err := l.Reload(ctx)
	if err != nil || len(results) != 1 || results[0].Outcome != pluginwatch.Rejected || !strings.Contains(results[0].Reason, "already loaded") {
		t.Fatalf("Reload = %+v, %v", results, err)
	}
	if msg, _ := call(ctx, reg); msg != "fixture v001" {
		t.Fatalf("serving %q after a refused duplicate", msg)
	}
}

// TestWatchDebounces: a folder written in several steps, the module first,
// is loaded once, when its manifest names the module's checksum.
func TestWatchDebounces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	dir := t.TempDir()
	results := make(chan pluginwatch.Result, 16)
	l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}, Quiet: 30 * time.Millisecond,
		OnResult: func(_ context.Context, r pluginwatch.Result) { results <- r }})
	w, err := l.Watch()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	folder := filepath.Join(dir, "fx")
	writeVersion(t, folder, "fx", 1, good)
	if r := next(t, results); r.Outcome != pluginwatch.Swapped || r.NewVersion != "1.0.1" {
		t.Fatalf("new folder: %+v", r)
	}
	// The module alone first: the old manifest no longer matches, so the
	// watcher waits for the manifest instead of refusing.
	if err := os.WriteFile(filepath.Join(folder, "versioned.wasm"), moduleOf(t, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	writeVersion(t, folder, "fx", 2, good)
	if r := next(t, results); r.Outcome != pluginwatch.Swapped || r.NewVersion != "1.0.2" {
		t.Fatalf("module then manifest: %+v", r)
	}
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	if r := next(t, results); r.Outcome != pluginwatch.Removed {
		t.Fatalf("removed folder: %+v", r)
	}
	select {
	case r := <-results:
		t.Fatalf("unexpected extra result %+v", r)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func next(t testing.TB, ch <-chan pluginwatch.Result) pluginwatch.Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s")
		return pluginwatch.Result{}
	}
}

func hexOf(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
