// Package engine is the self-healing browser-automation engine as a Go
// library: it classifies browser errors, picks recovery strategies ranked
// by what has worked before, runs them as sandboxed WebAssembly plugins,
// retries with progressively relaxed element matching, and records every
// attempt so that success rates are learned.
//
// The engine command (cmd/engine) is a thin shell over this package.
//
//	eng, err := engine.New(ctx, engine.Config{PluginDirs: []string{"build/plugins"}})
//	...
//	defer eng.Close(ctx)
//	wf, err := engine.LoadWorkflow("checkout.toml")
//	report, err := eng.Run(ctx, wf, engine.RunOptions{})
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/browser"
	"github.com/selfheal/engine/internal/classify"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/store"
)

// Config configures an Engine. The zero value works: SQLite in the user's
// state directory, no plugins beyond those in PluginDirs, the seed's
// patterns, Thompson sampling.
type Config struct {
	// DB selects the history store: "" for the default SQLite file, a file
	// path for another SQLite file, or a postgres:// URL.
	DB string
	// PluginDirs are folders holding one sub-folder per plugin, each with a
	// manifest.toml and its module.
	PluginDirs []string
	// PatternsFile is an optional TOML file that overrides and adds error
	// patterns.
	PatternsFile string
	// CacheDir holds the wazero compilation cache and the attempt spool;
	// default: the user's cache directory.
	CacheDir string
	// Logger receives the engine's logs; default: warnings to stderr.
	Logger hclog.Logger
	// ChromiumPath overrides the Chromium binary.
	ChromiumPath string
	// Ordered selects strategies in the patterns' order instead of by
	// Thompson sampling; Seed makes sampling reproducible when non-zero.
	Ordered bool
	Seed    int64
	// MaxRetries, Backoff and Jitter tune the healing loop; zero values
	// take the defaults (3, 200ms, 0.2).
	MaxRetries int
	Backoff    time.Duration
	Jitter     float64
}

// Engine is a running engine. Methods are safe for concurrent use.
type Engine struct {
	cfg        Config
	log        hclog.Logger
	store      history.Store
	recorder   *history.Recorder
	classifier *classify.Classifier
	selector   *learner
	runtime    *host.Runtime
	registry   *host.Registry
	storeDesc  string

	browserMu sync.Mutex
	browser   *browser.Browser
}

// ErrConfig is wrapped by errors caused by the engine's configuration:
// a bad database URL, plugin folder or patterns file.
var ErrConfig = errors.New("engine: bad configuration")

// New opens the store, applies migrations, loads the patterns and every
// plugin. It does not start a browser: that happens on the first session.
func New(ctx context.Context, cfg Config) (_ *Engine, err error) {
	e := &Engine{cfg: cfg, log: cfg.Logger}
	if e.log == nil {
		e.log = hclog.New(&hclog.LoggerOptions{Name: "engine", Level: hclog.Warn, Output: os.Stderr})
	}
	defer func() {
		if err != nil {
			_ = e.Close(context.WithoutCancel(ctx))
		}
	}()
	cacheDir := cfg.CacheDir
	if cacheDir == "" {
		base, cerr := os.UserCacheDir()
		if cerr != nil {
			base = os.TempDir()
		}
		cacheDir = filepath.Join(base, "selfheal")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: cache dir %s: %v", ErrConfig, cacheDir, err)
	}

	e.runtime, err = host.NewRuntime(ctx, host.NewConfig().
		WithCacheDir(filepath.Join(cacheDir, "wazero")).
		WithLogger(e.log.Named("plugin")))
	if err != nil {
		return nil, fmt.Errorf("engine: starting the plugin runtime: %w", err)
	}
	e.registry = host.NewRegistry()
	for _, dir := range cfg.PluginDirs {
		if err := e.loadPluginDir(ctx, dir); err != nil {
			return nil, err
		}
	}

	e.classifier, err = classify.Load(cfg.PatternsFile, classify.WithExtraStrategies(e.registry.Strategies()...))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}

	dsn, err := store.Resolve(cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	e.storeDesc = store.Redact(dsn)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("engine: opening the history store %s: %w", e.storeDesc, err)
	}
	e.store = st
	if _, err := e.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("engine: migrating %s: %w", e.storeDesc, err)
	}
	if err := e.store.UpsertPatterns(ctx, patternRecords(e.classifier)); err != nil {
		return nil, fmt.Errorf("engine: storing patterns in %s: %w", e.storeDesc, err)
	}
	counts, err := e.store.StrategyCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("engine: loading success counts from %s: %w", e.storeDesc, err)
	}
	e.selector = newSelector(e.classifier, counts, cfg)

	e.recorder, err = history.NewRecorder(e.store, history.RecorderOptions{
		SpoolPath: filepath.Join(cacheDir, "spool", spoolName(e.storeDesc)),
		OnLogged:  e.selector.Observe,
		OnError:   func(err error) { e.log.Warn("history", "error", err) },
	})
	if err != nil {
		return nil, fmt.Errorf("engine: starting the attempt recorder: %w", err)
	}
	return e, nil
}

// Store describes the history store in use (a path or a redacted URL).
func (e *Engine) Store() string { return e.storeDesc }

// Close flushes the history and releases the browser, plugins and store.
func (e *Engine) Close(ctx context.Context) error {
	var errs []error
	e.browserMu.Lock()
	if e.browser != nil {
		errs = append(errs, e.browser.Close())
		e.browser = nil
	}
	e.browserMu.Unlock()
	if e.recorder != nil {
		errs = append(errs, e.recorder.Close(ctx))
	}
	if e.registry != nil {
		errs = append(errs, e.registry.Close(ctx))
	}
	if e.runtime != nil {
		errs = append(errs, e.runtime.Close(ctx))
	}
	if e.store != nil {
		errs = append(errs, e.store.Close())
	}
	return errors.Join(errs...)
}

// Flush waits until every attempt logged so far is durable.
func (e *Engine) Flush(ctx context.Context) error { return e.recorder.Flush(ctx) }

// sharedBrowser starts Chromium on first use.
func (e *Engine) sharedBrowser(ctx context.Context) (*browser.Browser, error) {
	e.browserMu.Lock()
	defer e.browserMu.Unlock()
	if e.browser != nil && e.browser.Alive() {
		return e.browser, nil
	}
	if e.browser != nil {
		// Chromium died (crashed or killed): start a new one for new
		// sessions; sessions of the old one fail with browser.ErrCrashed.
		e.log.Warn("chromium is not running; starting a new one")
		_ = e.browser.Close()
		e.browser = nil
	}
	b, err := browser.Launch(ctx, browser.Options{ExecPath: e.cfg.ChromiumPath})
	if err != nil {
		return nil, fmt.Errorf("engine: starting chromium: %w", err)
	}
	e.browser = b
	return b, nil
}

func spoolName(desc string) string {
	h := uint32(2166136261)
	for i := 0; i < len(desc); i++ {
		h = (h ^ uint32(desc[i])) * 16777619
	}
	return fmt.Sprintf("attempts-%08x.spool", h)
}
