package e2e

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The test site: one page per error pattern, each producing its failure
// for real in the browser. A page sets document.title to "done: <what>"
// when its control is really clicked (a trusted click ran the handler), so
// a test can tell a healed action from one that only reported success.

// page writes a small HTML page.
func page(w http.ResponseWriter, title, head, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title>
<style>body{font:16px sans-serif;margin:20px} button{font-size:18px;padding:8px 16px}</style>%s</head>
<body>%s</body></html>`, html.EscapeString(title), head, body)
}

// doneOnClick is the script that marks a button's click in the title.
func doneOnClick(id, what string) string {
	return fmt.Sprintf(`<script>document.addEventListener('click', e => {
  if (e.target.closest && e.target.closest('#%s')) document.title = 'done: %s';
});</script>`, id, what)
}

// stallFor is how long /stall keeps a request waiting before it answers.
const stallFor = 1500 * time.Millisecond

// challengeClears is how long the challenge page stays before it clears.
const challengeClears = 2 * time.Second

func newSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Plain", "", `<h1>A plain page</h1><p>Nothing moves here.</p><button id="only">Only button</button>`)
	})
	// element_not_found, wait_longer: the button is added a second after load.
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Late", doneOnClick("late-btn", "late"), `<h1>Loading offers</h1><div id="slot"></div>
<script>setTimeout(() => {
  const b = document.createElement('button'); b.id = 'late-btn'; b.textContent = 'Show offers';
  document.getElementById('slot').appendChild(b);
}, 1000);</script>`)
	})
	// element_not_found, scroll_into_view: the button is rendered only when
	// the bottom of a long page scrolls into view.
	mux.HandleFunc("/lazy", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Lazy", doneOnClick("lazy-btn", "lazy"), `<h1>Results</h1>
<div style="height:2600px;background:linear-gradient(#fff,#eee)">Scroll for more</div>
<div id="sentinel" style="height:40px"></div><div id="more"></div>
<script>new IntersectionObserver((entries, obs) => {
  if (!entries.some(e => e.isIntersecting)) return;
  obs.disconnect();
  const b = document.createElement('button'); b.id = 'lazy-btn'; b.textContent = 'Load more results';
  document.getElementById('more').appendChild(b);
}).observe(document.getElementById('sentinel'));</script>`)
	})
	// element_not_found, resolver: the second version renames the button's
	// id and class; its text, role and place stay.
	mux.HandleFunc("/renamed", func(w http.ResponseWriter, r *http.Request) {
		id, class := "buy-now", "btn-primary"
		if r.URL.Query().Get("v") == "2" {
			id, class = "purchase-cta-7f3a", "c-btn c-btn--main"
		}
		page(w, "Product", doneOnClick(id, "renamed"), fmt.Sprintf(`<h1>Espresso machine</h1>
<p class="price">249 EUR</p><a href="#reviews">Reviews</a>
<button id="%s" class="%s">Buy now</button> <button id="wish">Add to wish list</button>`, id, class))
	})
	// action_execution_failure: a cookie banner covers the page until it is
	// accepted.
	mux.HandleFunc("/overlay", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Cart", doneOnClick("checkout", "overlay"), `<h1>Your cart</h1><button id="checkout">Checkout</button>
<div id="cookie-banner" style="position:fixed;inset:0;background:rgba(0,0,0,.6);z-index:10;display:flex;align-items:flex-end">
 <div style="background:#fff;width:100%;padding:20px"><p>We use cookies to improve your experience.</p>
 <button id="accept-cookies" onclick="document.getElementById('cookie-banner').remove()">Accept all</button></div></div>`)
	})
	// action_execution_failure: the element is there but the option to
	// choose is added a moment later, so the first select fails.
	mux.HandleFunc("/shipping", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Shipping", "", `<h1>Shipping</h1><label>Method <select id="shipping"
  onchange="document.title = 'done: ' + this.value"><option value="standard">Standard</option></select></label>
<script>setTimeout(() => { document.getElementById('shipping').add(new Option('Express', 'express')); }, 600);</script>`)
	})
	// security_challenge: a bot check that clears by itself after a while,
	// as when a person solves it; clearing sets a cookie and reloads.
	mux.HandleFunc("/challenge/account", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("e2e_cleared"); err != nil || c.Value != "1" {
			w.WriteHeader(http.StatusForbidden)
			page(w, "Security check", "", fmt.Sprintf(`<h1>Verify you are human</h1>
<p>Checking your browser before accessing the site.</p><div id="challenge-form"></div>
<script>setTimeout(() => { document.cookie = 'e2e_cleared=1; path=/challenge'; location.reload(); }, %d);</script>`,
				challengeClears.Milliseconds()))
			return
		}
		page(w, "Account", doneOnClick("orders", "challenge"), `<h1>Your account</h1><button id="orders">Your orders</button>`)
	})
	// timeout: the document itself stalls before it is answered.
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(stallFor):
		case <-r.Context().Done():
			return
		}
		page(w, "Report", "", `<h1>Quarterly report</h1>`)
	})
	// network_error and page_load_failure land here once the network or
	// server is back.
	mux.HandleFunc("/online", func(w http.ResponseWriter, r *http.Request) {
		page(w, "Online "+r.URL.Query().Get("n"), "", `<h1>Back online</h1>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// serveOn serves the recovered site on addr; a server that was closed on
// the same address refuses connections until this is called.
func serveOn(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page(w, "Recovered", "", `<h1>The server is back</h1><p>`+html.EscapeString(strings.TrimPrefix(r.URL.Path, "/"))+`</p>`)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, nil
}
