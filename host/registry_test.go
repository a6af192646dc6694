package host_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// TestRegistryHammer calls strategies from many goroutines while the plugin
// providing them is swapped over and over: no call may fail because of a
// swap, and every replaced version ends closed.
func TestRegistryHammer(t *testing.T) {
	const (
		callers = 8
		swaps   = 20
	)
	reg := host.NewRegistry()
	defer reg.Close(context.Background())
	manifest := goodFixture.write(t)
	loadOne := func() *host.Plugin {
		p, err := sharedRuntime.Load(context.Background(), manifest)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := reg.Swap(loadOne()); err != nil {
		t.Fatal(err)
	}
	f := hosttest.New("http://shop.test/")
	var (
		stop  atomic.Bool
		calls atomic.Int64
		wg    sync.WaitGroup
		errs  = make(chan error, callers)
	)
	for range callers {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				strategy := []string{"page_info", "take_page"}[i%2]
				if _, err := reg.Call(context.Background(), f.Env(), abi.Request{Strategy: strategy}); err != nil {
					errs <- err
					return
				}
				calls.Add(1)
			}
		})
	}
	var replaced []*host.Plugin
	for range swaps {
		old, err := reg.Swap(loadOne())
		if err != nil {
			t.Fatal(err)
		}
		replaced = append(replaced, old)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call failed during swaps: %v", err)
	}
	if calls.Load() == 0 {
		t.Fatal("no call ran")
	}
	if err := reg.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range replaced {
		if _, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: "page_info"}); !errors.Is(err, host.ErrClosed) {
			t.Fatalf("a replaced plugin must end closed: %v", err)
		}
	}
	t.Logf("%d calls across %d swaps", calls.Load(), swaps)
}

func TestRegistryLookupAndConflicts(t *testing.T) {
	reg := host.NewRegistry()
	defer reg.Close(context.Background())
	p := load(t, sharedRuntime, goodFixture)
	if old, err := reg.Swap(p); err != nil || old != nil {
		t.Fatalf("Swap: %v %v", old, err)
	}
	if got, ok := reg.Lookup("take_page"); !ok || got != p {
		t.Fatal("Lookup(take_page) did not find the plugin")
	}
	other := goodFixture
	other.id = "other"
	if _, err := reg.Swap(load(t, sharedRuntime, other)); err == nil {
		t.Fatal("a second plugin id providing the same strategies must be refused")
	}
	if _, err := reg.Call(context.Background(), host.Env{}, abi.Request{Strategy: "nope"}); !errors.Is(err, host.ErrUnknownStrategy) {
		t.Fatalf("got %v", err)
	}
	if ps := reg.Plugins(); len(ps) != 1 || ps[0].ID() != "good" {
		t.Fatalf("Plugins = %v", ps)
	}
	if reg.Remove("good") != p {
		t.Fatal("Remove did not return the plugin")
	}
	if _, ok := reg.Lookup("page_info"); ok {
		t.Fatal("strategy still installed after Remove")
	}
}
