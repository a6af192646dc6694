// Package server is the engine's HTTP JSON service (`engine serve`): agents
// written in any language classify errors, ask for the next recovery
// strategy, log attempts, read the learned success rates, and run actions
// with healing in browser sessions the service manages.
//
// It is built on the public engine package only. The routes and bodies are
// documented in cmd/engine/openapi.yaml.
//
// Each browser session runs one request at a time: an act or snapshot that
// arrives while another is running on the same session gets 409 Conflict
// rather than queueing, so a client never waits behind a healing loop it
// cannot see, and a retry is always the client's decision.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultShutdownTimeout = 15 * time.Second
	DefaultActTimeout      = 2 * time.Minute
	DefaultMaxSessions     = 8
)

// Options configure a Server. Zero values take the defaults above.
type Options struct {
	// Token, when not empty, is required as "Authorization: Bearer TOKEN"
	// on every request except /v1/health.
	Token string
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
	// IdleTimeout closes a browser session unused for that long.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for requests in flight
	// once its context is done; after it they are cancelled.
	ShutdownTimeout time.Duration
	// ActTimeout bounds one act request, healing included.
	ActTimeout time.Duration
	// MaxSessions bounds the browser sessions open at once.
	MaxSessions int
	// Logger receives request and session logs; default: discarded.
	Logger hclog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ActTimeout <= 0 {
		o.ActTimeout = DefaultActTimeout
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Server serves one engine. Create it with New; it starts nothing until
// Serve. The engine stays the caller's to close, after Serve returns.
type Server struct {
	eng     *engine.Engine
	opts    Options
	log     hclog.Logger
	handler http.Handler
	// tokenSum is the sha256 of the token: comparing fixed-size sums in
	// constant time does not reveal the token's length.
	tokenSum [sha256.Size]byte

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
}

// session is an open browser session and its lock: one request at a time.
type session struct {
	s *engine.Session
	// busy is held while a request uses the tab; TryLock gives 409.
	busy sync.Mutex
	// lastUsed is guarded by Server.mu.
	lastUsed time.Time
}

// New returns a server for eng.
func New(eng *engine.Engine, opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{eng: eng, opts: opts, log: opts.Logger, sessions: map[string]*session{}}
	if opts.Token != "" {
		s.tokenSum = sha256.Sum256([]byte(opts.Token))
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP serves the API; it makes Server usable with httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Serve serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, waits up to ShutdownTimeout for requests in flight (cancelling
// them after that), and closes every session. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests run under base, cancelled only when the grace period ends:
	// the caller's ctx ending must let in-flight requests finish.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	reapCtx, stopReap := context.WithCancel(ctx)
	reaped := make(chan struct{})
	go func() { defer close(reaped); s.reapLoop(reapCtx) }()
	defer func() { stopReap(); <-reaped }()

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.closeSessions()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		s.log.Warn("requests still running after the grace period; cancelling them", "error", err)
		cancelBase()
		_ = hs.Close()
	}
	<-errc
	s.closeSessions()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// reapLoop closes idle sessions until ctx is done.
func (s *Server) reapLoop(ctx context.Context) {
	every := s.opts.IdleTimeout / 4
	if every > time.Minute {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.reapIdle(now)
		}
	}
}

// reapIdle closes the sessions idle since before now-IdleTimeout that no
// request is using.
func (s *Server) reapIdle(now time.Time) int {
	var idle []*session
	var ids []string
	s.mu.Lock()
	for id, ss := range s.sessions {
		if ss.s == nil {
			continue // still opening
		}
		if now.Sub(ss.lastUsed) < s.opts.IdleTimeout || !ss.busy.TryLock() {
			continue
		}
		delete(s.sessions, id)
		idle = append(idle, ss)
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for i, ss := range idle {
		s.log.Info("closing idle session", "session", ids[i])
		if err := ss.s.Close(); err != nil {
			s.log.Warn("closing session", "session", ids[i], "error", err)
		}
		ss.busy.Unlock()
	}
	return len(idle)
}

// closeSessions closes every session and refuses new ones.
func (s *Server) closeSessions() {
	s.mu.Lock()
	s.closed = true
	all := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for id, ss := range all {
		if ss.s == nil {
			continue // still opening: its request sees closed and closes it
		}
		if err := ss.s.Close(); err != nil {
			s.log.Warn("closing session", "session", id, "error", err)
		}
	}
}

// Sessions is the number of open browser sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// authorized checks the bearer token.
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	sum := sha256.Sum256([]byte(h[len(prefix):]))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) == 1
}

// errSessionsClosed: the server is shutting down.
var errSessionsClosed = errors.New("the server is shutting down")
