package host_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// FuzzHostFuncDecoding feeds guest-supplied bytes to every JSON host
// function (chosen by the first input) against fake services: whatever the
// bytes, the function must answer with a documented status or a JSON
// response, never panic.
func FuzzHostFuncDecoding(f *testing.F) {
	names := host.JSONHostFuncs()
	seeds := []string{
		"", "{}", "null", "[", `{"css":"#buy","limit":3}`, `{"xpath":"/html[1]/body[1]/button[1]"}`,
		`{"css":"#buy","text":"hello","key":"Enter","visible":true,"timeout_ms":100}`,
		`{"point":{"x":1,"y":2}}`, `{"url":"http://x/","ignore_cache":true}`, `{"idle_ms":500}`,
		`{"target":{"css":"#buy","fingerprint":{"tag":"button","xpath":"/a"}},"level":2,"limit":5}`,
		`{"text":"Buy now","min_ratio":0.8}`, `{"host":"localhost"}`, `{"scale":2}`, `{"css":1}`, "\xff\xfe",
	}
	for i := range names {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, in []byte) {
		i := int(which) % len(names)
		fakes := hosttest.New("http://shop.test/", abi.Element{Tag: "button", Attrs: map[string]string{"id": "buy"},
			VisibleText: "Buy now", XPath: "/html[1]/body[1]/button[1]", Visible: true})
		fakes.Vision.Texts["Buy now"] = abi.TextLocation{Found: true, Ratio: 1}
		resp, status, lastErr := host.DispatchJSON(context.Background(), fakes.Env(), i, in)
		if status < 0 {
			if status < abi.StatusTooLarge || lastErr == "" {
				t.Fatalf("%s(%q): status %d with message %q", names[i], in, status, lastErr)
			}
			return
		}
		if int(status) != len(resp) || !json.Valid(resp) {
			t.Fatalf("%s(%q): status %d, response %q", names[i], in, status, resp)
		}
	})
}

func TestHostFuncDecodingUnavailable(t *testing.T) {
	for i, name := range host.JSONHostFuncs() {
		_, status, msg := host.DispatchJSON(context.Background(), host.Env{}, i, []byte("{}"))
		if status != abi.StatusUnavailable || msg == "" {
			t.Errorf("%s without services: status %d %q, want unavailable", name, status, msg)
		}
	}
}
