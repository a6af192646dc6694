package heal

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
)

// engineRequest is a request as the engine encodes it, about 1 KB.
func engineRequest() []byte {
	el := abi.Element{
		Index: 12, Tag: "button", Attrs: map[string]string{"id": "buy", "class": "btn primary", "data-test": "buy"},
		Text: "Buy now", VisibleText: "Buy now", Role: "button", Name: "Buy now",
		XPath: "/html[1]/body[1]/main[1]/form[1]/button[1]", IDXPath: `//*[@id="checkout"]/button[1]`,
		Rect: abi.Rect{X: 100, Y: 200.5, Width: 80, Height: 32}, Visible: true, Enabled: true,
		Neighbors: abi.Neighbors{Above: "Total: $12", Left: "Quantity"}, Frame: []string{"/html[1]/body[1]/iframe[1]"},
	}
	req := abi.Request{
		Strategy: "wait_until_visible",
		Error:    abi.ErrorInfo{Type: "element_not_found", Message: strings.Repeat("waiting for #buy: \"quoted\" ünïcödé \u2028 ", 8), Signal: "context deadline exceeded"},
		Action:   abi.Action{Kind: "click", Target: &abi.Target{CSS: "#buy", Text: "Buy now", Fingerprint: &el}, TimeoutMS: 5000},
		Attempt:  2, Healing: abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
		Config:    json.RawMessage(`{"poll_ms":100,"nested":{"a":[1,2.5,-3e2,true,null,"x"]}}`),
		SessionID: "5b3c", PageURL: "http://127.0.0.1:8080/shop?q=a&b=c", Tried: []string{"wait_longer", "reload_page"}, DeadlineMS: 10000,
	}
	b, _ := json.Marshal(req)
	return b
}

func TestFastDecodeTakesEngineRequests(t *testing.T) {
	in := engineRequest()
	var fast, ref abi.Request
	if !fastDecodeRequest(in, &fast) {
		t.Fatal("the fast path refused a request encoded by the engine")
	}
	if err := json.Unmarshal(in, &ref); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("fast %+v\nref  %+v", fast, ref)
	}
}

// The fast path either agrees with encoding/json or steps aside.
func FuzzDecodeRequest(f *testing.F) {
	f.Add(engineRequest())
	for _, s := range []string{
		`{}`, `null`, `{"strategy":"s","tried":[]}`, `{"tried":null,"config":null}`, `{"Strategy":"s"}`,
		`{"strategy":"a","strategy":"b"}`, `{"attempt":1.5}`, `{"attempt":01}`, `{"healing":{"min_ratio":1e-3}}`,
		`{"action":{"target":null}}`, `{"action":{"target":{"fingerprint":{"attrs":{"a":null,"b":"c"}}}}}`,
		`{"error":{"message":"\ud834\udd1e \u00e9 \ud800"}}`, "{\"strategy\":\"\xff\"}", `{"x":[{"y":{}}],"strategy":"s"}`,
		` { "strategy" : "s" } `, `{"strategy":"s"} x`, `{"deadline_ms":-0}`, `{"healing":{"pad_mul":-0.5}}`,
		`{"action":{"target":{"fingerprint":{"frame":["a",null]}}}}`, `{"strategſ":"x"}`, `{"config":{"a":1}  }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast, ref abi.Request
		if !fastDecodeRequest(in, &fast) {
			return
		}
		if err := json.Unmarshal(in, &ref); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", in, err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Fatalf("%q:\nfast %#v\nref  %#v", in, fast, ref)
		}
		// Sharing the input's memory changes nothing but allocations.
		var owned abi.Request
		if !fastDecode(bytes.Clone(in), &owned, true) || !reflect.DeepEqual(owned, ref) {
			t.Fatalf("%q: the aliasing decoder disagrees:\n%#v", in, owned)
		}
	})
}

func BenchmarkDecodeRequest(b *testing.B) {
	in := engineRequest()
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			var r abi.Request
			if err := decodeRequest(in, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var r abi.Request
			if err := json.Unmarshal(in, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
