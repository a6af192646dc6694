package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	engine "github.com/selfheal/engine"
)

// latePage adds its button 1.2 s after load: an action with a 300 ms
// timeout misses it, so it takes element_not_found's wait_longer to heal.
const latePage = `<!doctype html><html><body><h1>Shop</h1><p id="out">waiting</p>
<script>
setTimeout(() => {
  const b = document.createElement('button');
  b.id = 'buy'; b.textContent = 'Buy now';
  b.onclick = () => { document.getElementById('out').textContent = 'bought'; };
  document.body.appendChild(b);
}, 1200);
</script></body></html>`

// One Chromium for the whole file: sessions, healing, 409, history,
// snapshot, delete, idle reaping, then graceful shutdown with a request in
// flight.
func TestBrowserSessions(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, latePage)
	}))
	defer site.Close()

	eng := newEngine(t)
	srv := New(eng, Options{IdleTimeout: time.Hour})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c := client{t: t, base: "http://" + ln.Addr().String()}

	var created createSessionResponse
	if code := c.do("POST", "/v1/sessions", `{"url": "`+site.URL+`/", "viewport": "1024x700", "name": "t"}`, &created); code != http.StatusCreated {
		t.Fatalf("create: %d %+v", code, created)
	}
	if !isUUID(created.ID) || created.Navigation == nil || created.Navigation.Status != "passed" {
		t.Fatalf("create: %+v", created)
	}
	id := created.ID

	// While a request holds the session, others get 409.
	srv.mu.Lock()
	held := srv.sessions[id]
	srv.mu.Unlock()
	held.busy.Lock()
	var e map[string]string
	if code := c.do("POST", "/v1/sessions/"+id+"/act", `{"kind": "click", "target": {"css": "#buy"}}`, &e); code != http.StatusConflict {
		t.Errorf("act on a busy session: %d %v", code, e)
	}
	if code := c.do("DELETE", "/v1/sessions/"+id, "", &e); code != http.StatusConflict {
		t.Errorf("delete of a busy session: %d %v", code, e)
	}
	held.busy.Unlock()

	var rep engine.StepReport
	act := `{"kind": "click", "target": {"css": "#buy"}, "timeout_ms": 300, "key": "shop/buy"}`
	if code := c.do("POST", "/v1/sessions/"+id+"/act", act, &rep); code != 200 {
		t.Fatalf("act: %d", code)
	}
	if rep.Status != "passed" || !rep.Healed || len(rep.Attempts) == 0 || rep.Element == nil {
		t.Fatalf("act report: %+v", rep)
	}
	if a := rep.Attempts[len(rep.Attempts)-1]; a.ErrorType != "element_not_found" || !a.Success || a.Strategy == "" {
		t.Errorf("healing attempt: %+v", a)
	}
	// The click landed: the page says so.
	assert := `{"kind": "assert_text", "target": {"css": "#out"}, "value": "bought", "retries": 1}`
	if code := c.do("POST", "/v1/sessions/"+id+"/act", assert, &rep); code != 200 || rep.Status != "passed" {
		t.Errorf("assert after the click: %d %+v", code, rep)
	}

	var snap struct {
		URL      string           `json:"url"`
		Elements []map[string]any `json:"elements"`
	}
	if code := c.do("GET", "/v1/sessions/"+id+"/snapshot", "", &snap); code != 200 || len(snap.Elements) == 0 {
		t.Errorf("snapshot: %d %d elements", code, len(snap.Elements))
	}

	if err := eng.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var hist []engine.Attempt
	if code := c.do("GET", "/v1/sessions/"+id+"/history", "", &hist); code != 200 || len(hist) == 0 {
		t.Fatalf("history: %d %+v", code, hist)
	}
	if last := hist[len(hist)-1]; last.SessionID != id || !last.Success || last.ErrorType != "element_not_found" {
		t.Errorf("history row: %+v", last)
	}

	if code := c.do("DELETE", "/v1/sessions/"+id, "", nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code := c.do("POST", "/v1/sessions/"+id+"/act", `{"kind": "click", "target": {"css": "#buy"}}`, &e); code != http.StatusNotFound {
		t.Errorf("act after delete: %d %v", code, e)
	}

	// Idle sessions are closed; busy ones are not.
	var idle, busy createSessionResponse
	c.do("POST", "/v1/sessions", `{}`, &idle)
	c.do("POST", "/v1/sessions", ``, &busy)
	srv.mu.Lock()
	busyS := srv.sessions[busy.ID]
	srv.mu.Unlock()
	busyS.busy.Lock()
	if n := srv.reapIdle(time.Now().Add(2 * time.Hour)); n != 1 || srv.Sessions() != 1 {
		t.Errorf("reaped %d, %d left; want 1 and 1", n, srv.Sessions())
	}
	busyS.busy.Unlock()
	if code := c.do("GET", "/v1/sessions/"+idle.ID+"/snapshot", "", &e); code != http.StatusNotFound {
		t.Errorf("snapshot of a reaped session: %d", code)
	}

	// Shutdown while an act is in flight: the act finishes, then the
	// session is closed and Serve returns.
	c.do("POST", "/v1/sessions/"+busy.ID+"/act", `{"kind": "navigate", "url": "`+site.URL+`/"}`, nil)
	inflight := make(chan int, 1)
	var late engine.StepReport
	go func() {
		req, _ := http.NewRequest("POST", c.base+"/v1/sessions/"+busy.ID+"/act", strings.NewReader(`{"kind": "wait_for", "target": {"css": "#buy"}, "timeout_ms": 5000}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- -1
			return
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&late)
		inflight <- resp.StatusCode
	}()
	waitBusy(t, srv, busy.ID)
	stop()
	if code := <-inflight; code != 200 || late.Status != "passed" {
		t.Errorf("act in flight at shutdown: %d %+v", code, late)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions left open after shutdown", n)
	}
	if _, err := http.Get(c.base + "/v1/health"); err == nil {
		t.Errorf("the listener still answers after shutdown: %v", err)
	}
}

// waitBusy waits until a request holds the session.
func waitBusy(t *testing.T, srv *Server, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		srv.mu.Lock()
		ss := srv.sessions[id]
		srv.mu.Unlock()
		if ss != nil && !ss.busy.TryLock() {
			return
		}
		if ss != nil {
			ss.busy.Unlock()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the act never started")
}
