package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/internal/server"
)

func init() {
	commands["serve"] = command{summary: "serve the healing API over HTTP JSON (see openapi.yaml)", run: runServe}
}

// errNeedToken refuses a non-loopback address without a token.
var errNeedToken = errors.New("a token is required to listen beyond loopback")

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ef engineFlags
	ef.register(fs)
	addr := fs.String("addr", "127.0.0.1:8765", "address to listen on; a non-loopback one needs a token")
	token := fs.String("token", "", "bearer token required on every request but /v1/health (default $ENGINE_TOKEN)")
	idle := fs.Duration("session-idle", server.DefaultIdleTimeout, "close a browser session unused for this long")
	grace := fs.Duration("shutdown-grace", server.DefaultShutdownTimeout, "on SIGINT/SIGTERM, wait this long for requests in flight")
	actTimeout := fs.Duration("act-timeout", server.DefaultActTimeout, "bound on one act request, healing included")
	maxSessions := fs.Int("max-sessions", server.DefaultMaxSessions, "browser sessions open at once")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: engine serve [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errBadInput, fs.Arg(0))
	}
	if *token == "" {
		*token = os.Getenv("ENGINE_TOKEN")
	}
	for name, d := range map[string]time.Duration{"--session-idle": *idle, "--shutdown-grace": *grace, "--act-timeout": *actTimeout} {
		if d <= 0 {
			return fmt.Errorf("%w: %s %v: want a positive duration", errBadInput, name, d)
		}
	}
	if *maxSessions <= 0 {
		return fmt.Errorf("%w: --max-sessions %d: want at least 1", errBadInput, *maxSessions)
	}
	if err := checkBind(*addr, *token); err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	log, err := ef.logger(stderr)
	if err != nil {
		return err
	}

	// Listen before opening the engine, so a taken port fails fast.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%w: --addr: %w", errBadInput, err)
	}
	eng, err := ef.open(ctx, stderr)
	if err != nil {
		ln.Close()
		return err
	}
	srv := server.New(eng, server.Options{Token: *token, IdleTimeout: *idle, ShutdownTimeout: *grace,
		ActTimeout: *actTimeout, MaxSessions: *maxSessions, Logger: log.Named("serve")})

	// Plugins are swapped while serving: when their folders change, and on
	// SIGHUP. Both stop before the engine closes.
	wctx, stopWatch := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := eng.WatchPlugins(wctx); err != nil {
			log.Error("watching the plugin folders failed; SIGHUP still reloads them", "error", err)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-wctx.Done():
				return
			case <-hup:
				reloadPlugins(wctx, eng, stdout, log)
			}
		}
	}()

	fmt.Fprintf(stdout, "engine serve: listening on http://%s (store %s, %d plugins, auth %s)\n",
		ln.Addr(), eng.Store(), len(eng.Plugins()), map[bool]string{true: "bearer token", false: "none"}[*token != ""])
	serveErr := srv.Serve(ctx, ln)
	stopWatch()
	signal.Stop(hup)
	wg.Wait()
	// Close flushes the attempt history; give it its own bound since ctx is
	// already done.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	closeErr := eng.Close(cctx)
	if err := errors.Join(serveErr, closeErr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "engine serve: stopped; history flushed")
	return nil
}

// reloadPlugins is SIGHUP: bring the plugins in step with their folders
// and say what changed (each change is also logged and recorded).
func reloadPlugins(ctx context.Context, eng *engine.Engine, stdout io.Writer, log hclog.Logger) {
	results, err := eng.ReloadPlugins(ctx)
	if err != nil {
		log.Error("reloading plugins", "error", err)
	}
	count := map[string]int{}
	for _, r := range results {
		count[r.Outcome]++
	}
	fmt.Fprintf(stdout, "engine serve: plugins reloaded: %d swapped, %d rejected, %d removed\n",
		count["swapped"], count["rejected"], count["removed"])
}

// checkBind refuses to listen beyond loopback without a token. Only
// literal loopback addresses and "localhost" count as loopback: a host
// name could resolve anywhere.
func checkBind(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if token != "" || host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: %w; give --token or set ENGINE_TOKEN", addr, errNeedToken)
}
