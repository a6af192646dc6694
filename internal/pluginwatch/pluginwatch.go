// Package pluginwatch keeps a host.Registry in step with plugin folders on
// disk: it loads them at start, reloads them on demand (SIGHUP) and, with a
// Watcher, whenever their files change.
//
// A plugin folder is a sub-folder of a plugin directory holding a
// manifest.toml and the module it names. A reload of one folder builds the
// new version completely before anything changes (host.Runtime.Load reads,
// verifies, compiles and instantiates the first instance), then swaps it in
// with host.Registry.Swap: calls in flight finish on the old version, which
// is closed once they drain. A version that fails to load is refused and
// the old one keeps serving. A removed folder uninstalls its plugin after
// its calls drain. Every outcome is reported as a Result.
package pluginwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/selfheal/engine/host"
)

// ManifestName is the manifest's file name in a plugin folder.
const ManifestName = "manifest.toml"

// Outcomes of a reload.
const (
	Swapped  = "swapped"  // a new or changed version now serves
	Rejected = "rejected" // the new version was refused; the old one (if any) serves
	Removed  = "removed"  // the folder is gone; its plugin was uninstalled
)

// Result is the outcome of reloading one plugin folder.
type Result struct {
	PluginID   string    `json:"plugin_id"`
	Folder     string    `json:"folder"`
	OldVersion string    `json:"old_version,omitempty"`
	OldSHA256  string    `json:"old_sha256,omitempty"`
	NewVersion string    `json:"new_version,omitempty"`
	NewSHA256  string    `json:"new_sha256,omitempty"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
	// Err is the load error of a rejected version.
	Err error `json:"-"`
}

// Options configure a Loader. The zero value of each field has a default.
type Options struct {
	// Dirs are the plugin directories: folders of plugin folders.
	Dirs []string
	// Logger receives swaps (info) and refusals (warn).
	Logger hclog.Logger
	// OnResult is told about every swap, refusal and removal, after the
	// registry changed. It runs on the reloading goroutine.
	OnResult func(ctx context.Context, r Result)
	// Quiet is how long a folder's files must stay untouched before a
	// Watcher reloads it (editors and cp write in several events).
	// Default 200ms.
	Quiet time.Duration
	// Settle bounds how long a Watcher waits for a folder to become
	// consistent (the manifest parses and the module's sha256 matches it)
	// before loading it anyway, which refuses it with the precise reason.
	// Default 5s.
	Settle time.Duration
}

// Loader loads, reloads and unloads the plugins of some plugin
// directories into a registry. Its methods are safe for concurrent use;
// reloads are serialised.
type Loader struct {
	rt   *host.Runtime
	reg  *host.Registry
	opts Options
	mu   *sync.Mutex
}

// reloadMu serialises reloads of every Loader in the process, so that a
// SIGHUP reload and a watcher never build the same folder twice. Reloads
// are rare; a per-registry lock would need state the engine does not keep.
var reloadMu sync.Mutex

// New returns a Loader for the registry reg, whose plugins rt loads. It
// does nothing until a method is called.
func New(rt *host.Runtime, reg *host.Registry, opts Options) *Loader {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Quiet <= 0 {
		opts.Quiet = 200 * time.Millisecond
	}
	if opts.Settle <= 0 {
		opts.Settle = 5 * time.Second
	}
	opts.Dirs = append([]string(nil), opts.Dirs...)
	return &Loader{rt: rt, reg: reg, opts: opts, mu: &reloadMu}
}

// ErrFolder is wrapped by errors about a plugin directory itself (missing,
// unreadable).
var ErrFolder = errors.New("pluginwatch: bad plugin directory")

// ErrDuplicateID refuses a plugin folder whose id another folder already
// provides.
var ErrDuplicateID = errors.New("duplicate plugin id")

// LoadAll loads every plugin folder of every directory (without telling
// Options.OnResult: loading at start is not a swap), stopping at the
// first plugin that fails to load: at start a broken plugin is a
// configuration error, not something to serve around. Plugins loaded
// before the failure stay installed.
func (l *Loader) LoadAll(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, dir := range l.opts.Dirs {
		folders, err := pluginFolders(dir)
		if err != nil {
			return err
		}
		for _, f := range folders {
			if _, err := os.Stat(filepath.Join(f, ManifestName)); err != nil {
				continue // not a plugin folder
			}
			if r, changed := l.reconcile(ctx, f, false); changed && r.Outcome == Rejected {
				return r.Err
			}
		}
	}
	return nil
}

// Reload brings every plugin folder in step with the disk at once (no
// debouncing): new and changed versions are loaded and swapped in, broken
// ones refused, plugins whose folder is gone removed. It returns what
// changed; a folder whose version is already installed yields nothing.
// The error reports unreadable plugin directories only; refused versions
// are Results.
func (l *Loader) Reload(ctx context.Context) ([]Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Result
	var errs []error
	seen := map[string]bool{}
	for _, dir := range l.opts.Dirs {
		folders, err := pluginFolders(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range folders {
			seen[f] = true
			if r, changed := l.reconcile(ctx, f, true); changed {
				out = append(out, r)
			}
		}
	}
	// Plugins whose folder vanished, or whose directory is unreadable
	// (then their folder is not in seen, but it is not removed either).
	for _, p := range l.reg.Plugins() {
		f := filepath.Dir(p.Manifest().Path())
		if seen[f] || !l.owns(f) {
			continue
		}
		if _, err := os.Stat(filepath.Dir(f)); err != nil {
			continue
		}
		if r, changed := l.reconcile(ctx, f, true); changed {
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// ReloadFolder brings one plugin folder in step with the disk; changed is
// false when nothing had to be done.
func (l *Loader) ReloadFolder(ctx context.Context, folder string) (r Result, changed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reconcile(ctx, filepath.Clean(folder), true)
}

// owns reports whether folder is directly inside one of the directories.
func (l *Loader) owns(folder string) bool {
	parent := filepath.Dir(folder)
	for _, d := range l.opts.Dirs {
		if filepath.Clean(d) == parent {
			return true
		}
	}
	return false
}

// pluginFolders lists the sub-folders of dir, sorted.
func pluginFolders(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFolder, err)
	}
	var out []string
	for _, e := range ents {
		path := filepath.Join(filepath.Clean(dir), e.Name())
		if e.Type()&os.ModeSymlink != 0 {
			// A linked plugin folder counts as a folder.
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				out = append(out, path)
			}
			continue
		}
		if e.IsDir() {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out, nil
}

// installedIn returns the installed plugin loaded from folder.
func (l *Loader) installedIn(folder string) *host.Plugin {
	for _, p := range l.reg.Plugins() {
		if filepath.Dir(p.Manifest().Path()) == folder {
			return p
		}
	}
	return nil
}

func (l *Loader) installed(id string) *host.Plugin {
	for _, p := range l.reg.Plugins() {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

func hexSum(s [32]byte) string { return hex.EncodeToString(s[:]) }

// reconcile does the work of ReloadFolder; l.mu is held. Results are
// reported when report is set (not at start: loading is not a swap).
func (l *Loader) reconcile(ctx context.Context, folder string, report bool) (Result, bool) {
	res, changed := l.apply(ctx, folder)
	if changed && report {
		l.report(ctx, res)
	}
	return res, changed
}

func (l *Loader) apply(ctx context.Context, folder string) (Result, bool) {
	manifestPath := filepath.Join(folder, ManifestName)
	cur := l.installedIn(folder)
	res := Result{Folder: folder, At: time.Now()}
	if cur != nil {
		res.PluginID = cur.ID()
		res.OldVersion, res.OldSHA256 = cur.Manifest().Version(), hexSum(cur.Manifest().SHA256())
	}

	if _, err := os.Stat(manifestPath); errors.Is(err, os.ErrNotExist) {
		if cur == nil {
			return res, false
		}
		l.reg.Remove(cur.ID())
		res.Outcome = Removed
		res.Reason = "the plugin folder or its manifest was removed"
		return res, true
	}

	m, err := host.LoadManifest(manifestPath)
	if err == nil {
		res.PluginID = m.ID()
		res.NewVersion, res.NewSHA256 = m.Version(), hexSum(m.SHA256())
		if cur != nil && cur.ID() == m.ID() && reflect.DeepEqual(cur.Manifest(), m) && moduleMatches(m) {
			return res, false // this version already serves
		}
		if other := l.installed(m.ID()); other != nil && other != cur {
			err = fmt.Errorf("%w: plugin id %q is already loaded from %s", ErrDuplicateID, m.ID(), filepath.Dir(other.Manifest().Path()))
		}
	}
	var p *host.Plugin
	if err == nil {
		p, err = l.rt.Load(ctx, manifestPath)
	}
	if err == nil {
		var old *host.Plugin
		if old, err = l.reg.Swap(p); err != nil {
			_ = p.Close(ctx)
		} else if cur != nil && cur != old {
			// The folder's plugin changed its id: the old id goes.
			l.reg.Remove(cur.ID())
		}
	}
	if err != nil {
		res.Outcome, res.Reason, res.Err = Rejected, err.Error(), err
		if cur != nil && res.PluginID == "" {
			res.PluginID = cur.ID()
		}
		if res.PluginID == "" {
			res.PluginID = filepath.Base(folder)
		}
		return res, true
	}
	res.Outcome = Swapped
	return res, true
}

// moduleMatches reports whether the module file on disk still has the
// manifest's checksum (a module replaced under an unchanged manifest is a
// change to load, and to refuse).
func moduleMatches(m *host.Manifest) bool {
	code, err := os.ReadFile(m.ModulePath())
	return err == nil && sha256.Sum256(code) == m.SHA256()
}

func (l *Loader) report(ctx context.Context, r Result) {
	switch r.Outcome {
	case Rejected:
		l.opts.Logger.Warn("plugin version refused; the previous version keeps serving",
			"plugin", r.PluginID, "folder", r.Folder, "version", r.NewVersion, "serving", r.OldVersion, "reason", r.Reason)
	default:
		l.opts.Logger.Info("plugin "+r.Outcome, "plugin", r.PluginID, "folder", r.Folder,
			"old_version", r.OldVersion, "new_version", r.NewVersion, "sha256", r.NewSHA256)
	}
	if l.opts.OnResult != nil {
		l.opts.OnResult(ctx, r)
	}
}

// consistent reports whether a folder looks completely written: no
// manifest at all (a removal), or a manifest that parses and a module with
// its checksum.
func consistent(folder string) bool {
	manifestPath := filepath.Join(folder, ManifestName)
	if _, err := os.Stat(manifestPath); errors.Is(err, os.ErrNotExist) {
		return true
	}
	m, err := host.LoadManifest(manifestPath)
	return err == nil && moduleMatches(m)
}
