package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Request latency through the whole handler stack (auth, strict decoding,
// the engine, encoding), without a network: go test -bench . -run ^$
func BenchmarkHandlers(b *testing.B) {
	eng := newEngine(b)
	srv := New(eng, Options{Token: "t"})
	for _, bc := range []struct{ name, path, body string }{
		{"classify", "/v1/classify", `{"error": "TimeoutError: Timeout 3000ms exceeded while waiting for #buy"}`},
		{"strategy_next", "/v1/strategy/next", `{"error_type": "element_not_found", "retry_count": 1, "host": "shop.example", "action_kind": "click", "tried": ["wait_longer"]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bc.path, strings.NewReader(bc.body))
				req.Header.Set("Authorization", "Bearer t")
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, w.Code, w.Body)
				}
			}
		})
	}
}

// The same over loopback TCP with a keep-alive client: what a local agent
// sees per call.
func BenchmarkLoopback(b *testing.B) {
	eng := newEngine(b)
	ts := httptest.NewServer(New(eng, Options{Token: "t"}))
	defer ts.Close()
	client := ts.Client()
	for _, bc := range []struct{ name, path, body string }{
		{"classify", "/v1/classify", `{"error": "TimeoutError: Timeout 3000ms exceeded while waiting for #buy"}`},
		{"strategy_next", "/v1/strategy/next", `{"error_type": "element_not_found", "retry_count": 1, "host": "shop.example", "action_kind": "click", "tried": ["wait_longer"]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+bc.path, strings.NewReader(bc.body))
				req.Header.Set("Authorization", "Bearer t")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", bc.path, resp.StatusCode)
				}
			}
		})
	}
}
