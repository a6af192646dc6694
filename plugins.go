package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/selfheal/engine/host"
)

// loadPluginDir loads every plugin folder below dir.
func (e *Engine) loadPluginDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: plugin folder: %v", ErrConfig, err)
	}
	for _, ent := range entries {
		if !ent.IsDir() {
			continue
		}
		manifest := filepath.Join(dir, ent.Name(), "manifest.toml")
		if _, err := os.Stat(manifest); err != nil {
			continue
		}
		p, err := e.runtime.Load(ctx, manifest)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		old, err := e.registry.Swap(p)
		if err != nil {
			_ = p.Close(ctx)
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if old != nil {
			_ = old.Close(ctx)
		}
	}
	return nil
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
		m := p.Manifest()
		sum := m.SHA256()
		info := PluginInfo{ID: m.ID(), Version: m.Version(), SHA256: fmt.Sprintf("%x", sum[:]),
			Path: m.Path(), Strategies: m.Strategies(), Stats: p.Stats()}
		for _, g := range m.Grants() {
			info.Grants = append(info.Grants, string(g))
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
