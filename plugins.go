package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/pluginwatch"
)

// SwapResult is the outcome of reloading one plugin folder: Outcome is
// "swapped", "rejected" or "removed"; versions and sha256 sums of the old
// and new module, and for a refusal the reason.
type SwapResult = pluginwatch.Result

// Strategy names and plugins added while the engine runs.
//
// Error patterns are checked against the strategy names known when the
// engine starts (the built-in set and the plugins loaded then). A strategy
// that a plugin adds later is callable at once by name (a workflow step's
// strategies = [...] list, Session steps' Strategies, the HTTP API), but a
// patterns file naming it is accepted only by an engine started after the
// plugin is in its folder. A strategy whose plugin is removed fails its
// calls with host.ErrUnknownStrategy; the healing loop moves on to the next
// strategy.

// pluginLoader returns the loader of the engine's plugin folders; swaps
// are logged and recorded in the history store.
func (e *Engine) pluginLoader() *pluginwatch.Loader {
	return pluginwatch.New(e.runtime, e.registry, pluginwatch.Options{
		Dirs:     e.cfg.PluginDirs,
		Logger:   e.log.Named("plugins"),
		OnResult: e.recordSwap,
	})
}

// loadPluginDir loads every plugin folder below dir. At start a broken
// plugin is a configuration error.
func (e *Engine) loadPluginDir(ctx context.Context, dir string) error {
	l := pluginwatch.New(e.runtime, e.registry, pluginwatch.Options{Dirs: []string{dir}, Logger: e.log.Named("plugins")})
	if err := l.LoadAll(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// recordSwap stores a swap, refusal or removal in the history.
func (e *Engine) recordSwap(ctx context.Context, r pluginwatch.Result) {
	if e.store == nil {
		return
	}
	err := e.store.RecordPluginSwap(context.WithoutCancel(ctx), history.PluginSwap{
		PluginID: r.PluginID, OldVersion: r.OldVersion, OldSHA256: r.OldSHA256,
		NewVersion: r.NewVersion, NewSHA256: r.NewSHA256, Outcome: r.Outcome, Reason: r.Reason, At: r.At,
	})
	if err != nil {
		e.log.Warn("recording a plugin swap", "plugin", r.PluginID, "outcome", r.Outcome, "error", err)
	}
}

// ReloadPlugins brings the loaded plugins in step with the plugin folders
// now (what SIGHUP does): new and changed versions are built off the hot
// path and swapped in while calls in flight finish on the old version;
// broken versions are refused and the old one keeps serving; plugins
// whose folder is gone are removed once they drain. Every change is
// recorded in the history store and returned. The error reports
// unreadable plugin folders only.
func (e *Engine) ReloadPlugins(ctx context.Context) ([]SwapResult, error) {
	return e.pluginLoader().Reload(ctx)
}

// WatchPlugins watches the plugin folders and reloads a plugin whenever
// its files change and settle, as ReloadPlugins does for one folder. It
// blocks until ctx is done and returns nil then, or an error when the
// folders cannot be watched.
func (e *Engine) WatchPlugins(ctx context.Context) error {
	if len(e.cfg.PluginDirs) == 0 {
		<-ctx.Done()
		return nil
	}
	w, err := e.pluginLoader().Watch()
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// LoadPlugin loads (or reloads) the plugin in folder, which need not be
// below a configured plugin folder: `engine plugins test` uses it. A
// refused plugin is an error wrapping the host's sentinel.
func (e *Engine) LoadPlugin(ctx context.Context, folder string) (SwapResult, error) {
	r, changed := e.pluginLoader().ReloadFolder(ctx, folder)
	if !changed {
		return r, nil
	}
	if r.Outcome == pluginwatch.Rejected {
		return r, r.Err
	}
	return r, nil
}

// PluginSwaps returns the recorded swaps of a plugin, newest first; ""
// means every plugin.
func (e *Engine) PluginSwaps(ctx context.Context, pluginID string) ([]SwapResult, error) {
	rows, err := e.store.PluginSwaps(ctx, pluginID)
	if err != nil {
		return nil, err
	}
	out := make([]SwapResult, 0, len(rows))
	for _, r := range rows {
		out = append(out, SwapResult{PluginID: r.PluginID, OldVersion: r.OldVersion, OldSHA256: r.OldSHA256,
			NewVersion: r.NewVersion, NewSHA256: r.NewSHA256, Outcome: r.Outcome, Reason: r.Reason, At: r.At})
	}
	return out, nil
}

// PluginInfo describes a loaded plugin.
type PluginInfo struct {
	ID         string     `json:"id"`
	Version    string     `json:"version"`
	SHA256     string     `json:"sha256"`
	Path       string     `json:"path"`
	Strategies []string   `json:"strategies"`
	Grants     []string   `json:"grants"`
	Stats      host.Stats `json:"stats"`
}

// Plugins lists the loaded plugins by id.
func (e *Engine) Plugins() []PluginInfo {
	var out []PluginInfo
	for _, p := range e.registry.Plugins() {
		out = append(out, pluginInfo(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func pluginInfo(p *host.Plugin) PluginInfo {
	m := p.Manifest()
	sum := m.SHA256()
	info := PluginInfo{ID: m.ID(), Version: m.Version(), SHA256: fmt.Sprintf("%x", sum[:]),
		Path: m.Path(), Strategies: m.Strategies(), Stats: p.Stats()}
	for _, g := range m.Grants() {
		info.Grants = append(info.Grants, string(g))
	}
	return info
}
