package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/historytest"
	"github.com/selfheal/engine/migrations"
)

func TestConformance(t *testing.T) {
	historytest.Run(t, migrations.Postgres, func(t *testing.T) history.Store {
		s, _ := openMigrated(t, 0)
		return s
	})
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Open(context.Background(), "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=1")
	if !errors.Is(err, history.ErrUnavailable) {
		t.Errorf("Open on a closed port: %v, want ErrUnavailable", err)
	}
	if _, err := Open(context.Background(), "postgres://%zz"); err == nil || errors.Is(err, history.ErrUnavailable) {
		t.Errorf("bad URL: %v", err)
	}
}

// proxy forwards TCP to PostgreSQL and can be cut and restored on the same
// port, like a database that goes away and comes back.
type proxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same port.
func (p *proxy) restore() {
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// The database goes away in the middle of a run and comes back: every
// attempt lands exactly once and the statistics are exact.
func TestFaultDatabaseGoesAway(t *testing.T) {
	direct, u := openMigrated(t, 0)
	target := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(baseURL(), "postgres://"), "/", 2)[0], "postgres@")
	px := newProxy(t, target)
	viaProxy := strings.Replace(u, target, px.addr, 1)
	viaProxy = withParam(t, viaProxy, "connect_timeout", "1")
	s, err := Open(context.Background(), viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var mu sync.Mutex
	var reported []error
	r, err := history.NewRecorder(s, history.RecorderOptions{
		SpoolPath: filepath.Join(t.TempDir(), "spool"), BatchSize: 100, FlushInterval: 2 * time.Millisecond,
		RetryInterval: 20 * time.Millisecond, WriteTimeout: 2 * time.Second,
		OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := direct.CreateSession(context.Background(), history.Session{Name: "fault"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	var logged []history.Attempt
	types := []string{"element_not_found", "timeout", "network_error"}
	for i := range n {
		a, err := r.Log(history.Attempt{SessionID: sess.ID, ErrorType: types[i%3], ErrorMessage: fmt.Sprint("attempt ", i),
			Strategy: []string{"wait_longer", "reload_page", "retry_request"}[i%3], Success: i%4 != 0, Host: "h", ActionKind: "click"})
		if err != nil {
			t.Fatal(err)
		}
		logged = append(logged, a)
		switch i {
		case n / 3:
			px.cut()
		case 2 * n / 3:
			if r.SpoolBytes() == 0 {
				// Make sure the outage was seen before ending it.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				r.Flush(ctx)
				cancel()
			}
			if r.SpoolBytes() == 0 {
				t.Fatal("nothing was spooled while the database was cut off")
			}
			px.restore()
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let batches go out mid-run
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	historytest.CheckAllStored(t, direct, logged)
	historytest.CheckStats(t, direct, logged)
	mu.Lock()
	defer mu.Unlock()
	if len(reported) == 0 || !errors.Is(reported[0], history.ErrUnavailable) {
		t.Errorf("outage reported as %v", reported)
	}
}
