// Package browser drives headless Chromium through chromedp for the engine:
// a Browser is one Chromium process, a Session one tab (or one incognito
// browser context) on which every operation of the plugin ABI's browser and
// browser_act capabilities runs, each with a deadline and an error that names
// the selector or URL.
//
// Deadlines go on child contexts only: chromedp ties the life of the browser
// (and of a tab) to the context of its first Run, so a timeout there would
// kill it.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultExecPath is Debian's Chromium binary. /usr/bin/chromium is a shell
// wrapper that adds flags of its own, so the driver starts the binary itself.
const DefaultExecPath = "/usr/lib/chromium/chromium"

// ErrCrashed is wrapped by errors of operations on a browser whose process
// exited or whose tab crashed.
var ErrCrashed = errors.New("browser: chromium is not running")

// Options configure a Browser. The zero value is usable.
type Options struct {
	// ExecPath is the Chromium binary; default DefaultExecPath.
	ExecPath string
	// Width and Height are the default viewport of sessions, applied by
	// emulation (a window size gives a smaller page); default 1280x800.
	Width, Height int
	// StartTimeout bounds the start of the process; default 30s.
	StartTimeout time.Duration
	// Visible starts a windowed browser instead of a headless one; it
	// needs a display ($DISPLAY, e.g. Xvfb).
	Visible bool
}

func (o Options) withDefaults() Options {
	if o.ExecPath == "" {
		o.ExecPath = DefaultExecPath
	}
	if o.Width <= 0 {
		o.Width = 1280
	}
	if o.Height <= 0 {
		o.Height = 800
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	return o
}

// Browser is one Chromium process with a private, temporary profile.
type Browser struct {
	opts        Options
	dir         string
	allocCancel context.CancelFunc
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
}

// Launch starts Chromium, headless unless opts.Visible. ctx bounds the start only; the process
// lives until Close.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	opts = opts.withDefaults()
	if _, err := os.Stat(opts.ExecPath); err != nil {
		return nil, fmt.Errorf("browser: chromium binary %s: %w", opts.ExecPath, err)
	}
	if opts.Visible && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return nil, fmt.Errorf("browser: a visible browser needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set (run under Xvfb, or keep headless)")
	}
	dir, err := os.MkdirTemp("", "selfheal-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: creating the profile directory: %w", err)
	}
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(opts.ExecPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// History navigations restored from the back/forward cache fire no
		// lifecycle events; Back waits for them.
		chromedp.Flag("disable-features", "BackForwardCache"),
	}
	if !opts.Visible {
		allocOpts = append(allocOpts, chromedp.Headless)
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	bctx, bcancel := chromedp.NewContext(allocCtx)
	b := &Browser{opts: opts, dir: dir, allocCancel: allocCancel, ctx: bctx, cancel: bcancel}

	startCtx, cancelStart := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancelStart()
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(bctx) }() // no deadline on the first run
	select {
	case err = <-errc:
	case <-startCtx.Done():
		err = startCtx.Err()
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", opts.ExecPath, err)
	}
	return b, nil
}

// Close stops the process and removes its profile directory.
func (b *Browser) Close() error {
	b.cancel()
	b.allocCancel()
	return os.RemoveAll(b.dir)
}

// Process returns the Chromium process, or nil.
func (b *Browser) Process() *os.Process {
	if c := chromedp.FromContext(b.ctx); c != nil && c.Browser != nil {
		return c.Browser.Process()
	}
	return nil
}

// Alive reports whether the browser can still take commands.
func (b *Browser) Alive() bool { return b.alive() }

// alive reports whether the browser can still take commands.
func (b *Browser) alive() bool {
	if b.ctx.Err() != nil {
		return false
	}
	if p := b.Process(); p != nil {
		// Signal 0 checks that the process exists.
		if err := p.Signal(syscall0); err != nil {
			return false
		}
	}
	return true
}

// crashErr turns an error of a dead browser into one that says so.
func (b *Browser) crashErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) || !b.alive() {
		return fmt.Errorf("%w (%s): %w", ErrCrashed, b.opts.ExecPath, err)
	}
	return err
}
