package pluginwatch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/pluginwatch"
)

// TestSwapUnderLoad replaces a plugin 100 times through the watcher (good
// and broken versions alternating, written as cp writes) while 8
// goroutines call it without pause. It checks that no call fails, that
// every answer comes from a version that was installed complete, that a
// caller never goes back to an older version, that every replaced version
// ends with no live instance, and that the heap does not grow with the
// swaps.
func TestSwapUnderLoad(t *testing.T) {
	const (
		replacements = 100
		callers      = 8
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := newRuntime(t)
	reg := host.NewRegistry()
	dir := t.TempDir()
	folder := filepath.Join(dir, "fx")
	writeVersion(t, folder, "fx", 0, good)

	results := make(chan pluginwatch.Result, 4)
	l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}, Quiet: 15 * time.Millisecond,
		OnResult: func(_ context.Context, r pluginwatch.Result) { results <- r }})
	if err := l.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := l.Watch()
	if err != nil {
		t.Fatal(err)
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- w.Run(ctx) }()

	// installed[v] is set once version v serves; callers check each answer
	// against it.
	var installed sync.Map
	installed.Store(0, true)
	// Replaced versions are held weakly, so that the heap check sees
	// what the registry and runtime keep, not what the test keeps.
	first, _ := reg.Lookup("versioned")
	plugins := []weak.Pointer[host.Plugin]{weak.Make(first)}
	first = nil

	var (
		stop     atomic.Bool
		calls    atomic.Int64
		wg       sync.WaitGroup
		failMu   sync.Mutex
		failures []string
	)
	fail := func(format string, args ...any) {
		failMu.Lock()
		defer failMu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for !stop.Load() {
				msg, err := call(ctx, reg)
				calls.Add(1)
				if err != nil {
					fail("caller %d: %v", g, err)
					return
				}
				v, err := strconv.Atoi(strings.TrimPrefix(msg, "fixture v"))
				if err != nil || !strings.HasPrefix(msg, "fixture v") {
					fail("caller %d: answer %q names no version", g, msg)
					return
				}
				if _, ok := installed.Load(v); !ok {
					fail("caller %d: answer from version %d, which was never installed", g, v)
					return
				}
				if v < last {
					fail("caller %d: version %d after %d", g, v, last)
					return
				}
				last = v
			}
		}()
	}

	var heapAt10, rssAt10 uint64
	kinds := []breakage{ungranted, truncated, strategies}
	swapped, rejected := 0, 0
	for i := 1; i <= replacements; i++ {
		b := good
		if i%2 == 0 {
			b = kinds[(i/2)%len(kinds)]
		}
		// Mark a good version installed before it can answer: the check
		// is that answers come only from complete, loadable versions.
		if b == good {
			installed.Store(i, true)
		}
		writeVersion(t, folder, "fx", i, b)
		r := next(t, results)
		want := pluginwatch.Swapped
		if b != good {
			want = pluginwatch.Rejected
		}
		if r.Outcome != want || r.NewVersion != fmt.Sprintf("1.0.%d", i) {
			t.Fatalf("replacement %d (%s): %s %s: %s", i, b, r.Outcome, r.NewVersion, r.Reason)
		}
		if b == good {
			swapped++
			p, _ := reg.Lookup("versioned")
			plugins = append(plugins, weak.Make(p))
		} else {
			rejected++
		}
		if i == 10 {
			heapAt10, rssAt10 = heap(), rss()
		}
	}
	// Let the callers run on the last version for a moment, then stop.
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if calls.Load() < replacements {
		t.Errorf("only %d calls during %d replacements: the test did not load the plugin", calls.Load(), replacements)
	}
	heapEnd := heap()

	// Every replaced version drained and closed: no live instance left.
	// (A version already collected has none.)
	deadline := time.Now().Add(5 * time.Second)
	collected := 0
	for _, wp := range plugins[:len(plugins)-1] {
		p := wp.Value()
		if p == nil {
			collected++
			continue
		}
		for p.Stats().Instances != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := p.Stats().Instances; n != 0 {
			t.Errorf("replaced version %s still has %d live instances", p.Manifest().Version(), n)
		}
	}
	last := plugins[len(plugins)-1].Value()
	if n := last.Stats().Instances; n < 1 || n > last.Manifest().Limits().PoolSize {
		t.Errorf("the serving version has %d instances, want 1..%d", n, last.Manifest().Limits().PoolSize)
	}
	cancel()
	if err := <-watchDone; err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := last.Stats().Instances; n != 0 {
		t.Errorf("after Close the last version has %d live instances", n)
	}
	// Memory flat: 90 swaps after the 10th may not grow the heap by more
	// than a few hundred bytes each (the compiled code lives outside it).
	if heapEnd > heapAt10+8<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d swaps", heapAt10, heapEnd, replacements-10)
	}
	t.Logf("%d replaced versions garbage-collected of %d", collected, len(plugins)-1)
	t.Logf("%d calls, %d swapped, %d rejected; heap %d KiB after 10 swaps, %d KiB after %d; RSS %d KiB after 10, %d KiB after %d",
		calls.Load(), swapped, rejected, heapAt10>>10, heapEnd>>10, replacements, rssAt10>>10, rss()>>10, replacements)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rss is the resident set size from /proc (0 where unavailable).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * uint64(os.Getpagesize())
}
