package pluginwatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reloads plugin folders when their files change. Create it with
// Loader.Watch; it watches from the moment Watch returns.
type Watcher struct {
	l *Loader
	w *fsnotify.Watcher
}

// Watch starts watching the Loader's directories and their plugin folders.
// Run must then be called to act on the changes.
func (l *Loader) Watch() (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("pluginwatch: %w", err)
	}
	for _, dir := range l.opts.Dirs {
		if err := w.Add(dir); err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("%w: watching %s: %v", ErrFolder, dir, err)
		}
		folders, err := pluginFolders(dir)
		if err != nil {
			_ = w.Close()
			return nil, err
		}
		for _, f := range folders {
			if err := w.Add(f); err != nil {
				_ = w.Close()
				return nil, fmt.Errorf("%w: watching %s: %v", ErrFolder, f, err)
			}
		}
	}
	return &Watcher{l: l, w: w}, nil
}

// pending is a folder with changes not yet acted on.
type pending struct {
	first time.Time // first event since the last reload
	due   time.Time // last event + Quiet
}

// Run reloads changed folders until ctx is done, then stops watching and
// returns nil. A folder is reloaded once its files have been quiet for
// Options.Quiet and look consistent (the manifest parses and names the
// module's checksum), or once Options.Settle has passed since its first
// change, whichever the files allow first.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.w.Close()
	l := w.l
	waiting := map[string]*pending{}
	refused := map[string]string{} // folder -> fingerprint of its refused files
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	arm := func() {
		var next time.Time
		for _, p := range waiting {
			if next.IsZero() || p.due.Before(next) {
				next = p.due
			}
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case err, ok := <-w.w.Errors:
			if !ok {
				return nil
			}
			// An overflow loses events: look at everything.
			l.opts.Logger.Warn("plugin watcher", "error", err)
			now := time.Now()
			for _, dir := range l.opts.Dirs {
				folders, _ := pluginFolders(dir)
				for _, f := range folders {
					waiting[f] = &pending{first: now, due: now.Add(l.opts.Quiet)}
				}
			}
			for _, p := range l.reg.Plugins() {
				if f := filepath.Dir(p.Manifest().Path()); l.owns(f) {
					waiting[f] = &pending{first: now, due: now.Add(l.opts.Quiet)}
				}
			}
			arm()
		case ev, ok := <-w.w.Events:
			if !ok {
				return nil
			}
			folder := w.folderOf(ev)
			if folder == "" {
				continue
			}
			now := time.Now()
			p := waiting[folder]
			if p == nil {
				p = &pending{first: now}
				waiting[folder] = p
			}
			p.due = now.Add(l.opts.Quiet)
			arm()
		case <-timer.C:
			now := time.Now()
			for folder, p := range waiting {
				if p.due.After(now) {
					continue
				}
				if !consistent(folder) && now.Sub(p.first) < l.opts.Settle {
					p.due = now.Add(l.opts.Quiet)
					continue
				}
				delete(waiting, folder)
				// A refused version is not retried until its files
				// change: late events of the same write would
				// otherwise refuse (and report) it again.
				fp := fingerprint(folder)
				if fp != "" && refused[folder] == fp {
					continue
				}
				delete(refused, folder)
				if r, changed := l.ReloadFolder(ctx, folder); changed && r.Outcome == Rejected {
					refused[folder] = fp
				}
			}
			arm()
		}
	}
}

// folderOf maps an event to the plugin folder it concerns, adding a watch
// on a newly created folder; "" for events outside any plugin folder.
func (w *Watcher) folderOf(ev fsnotify.Event) string {
	name := filepath.Clean(ev.Name)
	if w.l.owns(name) {
		// The folder itself was created, removed or renamed.
		if ev.Has(fsnotify.Create) {
			if st, err := os.Stat(name); err == nil && st.IsDir() {
				if err := w.w.Add(name); err != nil {
					w.l.opts.Logger.Warn("plugin watcher: watching a new folder", "folder", name, "error", err)
				}
			}
		}
		return name
	}
	if parent := filepath.Dir(name); w.l.owns(parent) {
		return parent
	}
	return ""
}

// fingerprint hashes the names and contents of a folder's files; "" when
// it cannot be read.
func fingerprint(folder string) string {
	ents, err := os.ReadDir(folder)
	if err != nil {
		return ""
	}
	h := sha256.New()
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(folder, e.Name()))
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Close stops watching without Run (Run closes the watcher itself).
func (w *Watcher) Close() error { return w.w.Close() }
