package server

import (
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
