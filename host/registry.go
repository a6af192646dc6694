package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/selfheal/engine/abi"
)

// Registry maps strategy names to the plugins that provide them and swaps
// plugins while calls run: build the new version, Swap it in, and the old
// one drains its calls in flight and closes in the background.
type Registry struct {
	mu         sync.RWMutex
	byID       map[string]*Plugin
	byStrategy map[string]*Plugin
	closing    sync.WaitGroup
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byID: map[string]*Plugin{}, byStrategy: map[string]*Plugin{}}
}

// Swap installs p, replacing the plugin with the same id, and returns the
// replaced plugin (nil if none). The old plugin stops receiving calls at
// once; its calls in flight finish on it, then it is closed. A strategy
// provided by another plugin id is refused.
func (r *Registry) Swap(p *Plugin) (*Plugin, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range p.m.strategies {
		if other := r.byStrategy[s]; other != nil && other.ID() != p.ID() {
			return nil, fmt.Errorf("host: plugin %q provides strategy %q, already provided by plugin %q", p.ID(), s, other.ID())
		}
	}
	old := r.byID[p.ID()]
	if old != nil {
		for _, s := range old.m.strategies {
			delete(r.byStrategy, s)
		}
	}
	r.byID[p.ID()] = p
	for _, s := range p.m.strategies {
		r.byStrategy[s] = p
	}
	if old != nil && old != p {
		r.retire(old)
	}
	return old, nil
}

// Remove uninstalls the plugin with id and closes it after it drains. It
// returns the plugin, or nil when none had that id.
func (r *Registry) Remove(id string) *Plugin {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.byID[id]
	if old == nil {
		return nil
	}
	delete(r.byID, id)
	for _, s := range old.m.strategies {
		delete(r.byStrategy, s)
	}
	r.retire(old)
	return old
}

// retire closes p once its calls finish. Called with r.mu held, so no new
// call can enter p through the registry afterwards.
func (r *Registry) retire(p *Plugin) {
	r.closing.Add(1)
	go func() {
		defer r.closing.Done()
		if err := p.Close(context.Background()); err != nil {
			p.logger.Warn("closing a replaced plugin", "error", err)
		}
	}()
}

// Lookup returns the plugin that provides strategy. The plugin may be
// swapped out at any moment; use Registry.Call to run a strategy so that
// the call is guaranteed to finish on the version it started on.
func (r *Registry) Lookup(strategy string) (*Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.byStrategy[strategy]
	return p, ok
}

// Plugins returns the installed plugins ordered by id.
func (r *Registry) Plugins() []*Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Plugin, 0, len(r.byID))
	for _, p := range r.byID {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Plugin) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}

// Strategies returns every installed strategy name, sorted.
func (r *Registry) Strategies() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.byStrategy))
	for s := range r.byStrategy {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Call runs req.Strategy on the plugin that provides it. The plugin is
// pinned under the registry's lock, so a concurrent Swap never fails the
// call: it completes on the version it started on.
func (r *Registry) Call(ctx context.Context, env Env, req abi.Request) (abi.Result, error) {
	r.mu.RLock()
	p := r.byStrategy[req.Strategy]
	entered := p != nil && p.enter()
	r.mu.RUnlock()
	if p == nil {
		return abi.Result{}, &CallError{Strategy: req.Strategy, Err: fmt.Errorf("%w: no installed plugin provides %q", ErrUnknownStrategy, req.Strategy)}
	}
	if !entered {
		// Only possible when the plugin was closed directly, outside
		// the registry.
		return abi.Result{}, p.callErr(req.Strategy, fmt.Errorf("plugin %w", ErrClosed), "")
	}
	defer p.exit()
	return p.call(ctx, env, req)
}

// Close uninstalls every plugin and waits, bounded by ctx, until all of
// them (and any replaced earlier) have drained and closed.
func (r *Registry) Close(ctx context.Context) error {
	r.mu.Lock()
	for id, p := range r.byID {
		delete(r.byID, id)
		r.retire(p)
	}
	clear(r.byStrategy)
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.closing.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("host: registry close: plugins still draining"), ctx.Err())
	}
}
