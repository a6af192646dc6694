package heal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/selfheal/engine/abi"
)

// sampleElement has every field set, with strings that need escaping.
func sampleElement(s string, f float64) *abi.Element {
	return &abi.Element{Index: 3, Tag: "button", Attrs: map[string]string{"id": s, "class": "a<b>&c", "z": "", s + "k": "v"},
		Text: s, VisibleText: "Buy\u2028now", Role: "button", Name: s, XPath: "/html[1]/body[1]/button[1]", IDXPath: `//*[@id="x"]`,
		Rect: abi.Rect{X: f, Y: -f, Width: 1e21, Height: 1e-7}, Visible: true, Neighbors: abi.Neighbors{Above: s, Right: "r"},
		Frame: []string{s, "/html[1]"}}
}

// resultsFrom builds results covering every field from a fuzzed string
// and number.
func resultsFrom(s string, f float64) []abi.Result {
	el := sampleElement(s, f)
	details, _ := json.Marshal(map[string]any{"s": s, "f": 1.5})
	return []abi.Result{
		{Outcome: abi.OutcomeRetry},
		{Outcome: abi.Outcome(s), Message: s},
		{Outcome: abi.OutcomeUseElement, Message: s, Element: el, Details: details},
		{Outcome: abi.OutcomeUseElement, Point: &abi.Point{X: f, Y: f / 3}},
		{Outcome: abi.OutcomeRetry, Retry: &abi.RetryOptions{TimeoutMS: int64(f), DelayMS: -1,
			Target: &abi.Target{CSS: s, XPath: s, Text: s, Role: s, Label: s, Placeholder: s, Near: s, Fingerprint: el}}},
		{Outcome: abi.OutcomeRetry, Retry: &abi.RetryOptions{}},
		{Outcome: abi.OutcomeGiveUp, Details: json.RawMessage(s)},
		{Outcome: abi.OutcomeGiveUp, Details: json.RawMessage(` {"a" : [1, "x<y"]} `)},
		{Outcome: abi.OutcomeAbort, Element: &abi.Element{}},
	}
}

// The hand-written encoders write what json.Marshal writes, or step aside
// so that encoding/json does.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "<script>&amp;", "ctl\x00\x01\x1f\b\f\n\r\t", "ünïcödé \u2028\u2029 😀",
		"bad \xff\xfe utf8", "\xed\xa0\x80", "{\"a\":1}", "null", "[1,2]"} {
		for _, x := range []float64{0, -0.0, 1, 1.5, -3e-7, 1e21, 123456789.125, 1e-6, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1)} {
			f.Add(s, x)
		}
	}
	f.Fuzz(func(t *testing.T, s string, x float64) {
		for i, r := range resultsFrom(s, x) {
			want, wantErr := json.Marshal(r)
			got, err := encodeResult([]byte("prefix"), &r)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("result %d: error %v, json.Marshal %v", i, err, wantErr)
			}
			if err == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Fatalf("result %d:\ngot  %s\nwant prefix%s", i, got, want)
			}
		}
		m := map[string]any{"s": s, "f": x, "i": int(x), "b": true, "n": nil, "list": []string{s}, "nested": map[string]any{s: s},
			"millis": myMillis(7), "struct": abi.Point{X: 1}, "i64": int64(-5), "u": uint64(9), s: 1}
		want, wantErr := json.Marshal(m)
		got, err := appendValue(nil, m)
		if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("details:\ngot  %s %v\nwant %s %v", got, err, want, wantErr)
		}
		for i, in := range []any{
			abi.Locator{CSS: s, XPath: s, Point: &abi.Point{X: x}, Text: s, Key: s, Visible: true, TimeoutMS: int64(x)},
			abi.Locator{}, abi.Query{CSS: s, Limit: 3}, abi.Navigation{URL: s, IgnoreCache: true, TimeoutMS: 5},
			abi.IdleRequest{IdleMS: 500, TimeoutMS: int64(x)}, abi.LookupRequest{Host: s},
			abi.ResolveRequest{Target: abi.Target{Text: s, Fingerprint: sampleElement(s, x)}, Level: 2, Limit: 5},
		} {
			want, wantErr := json.Marshal(in)
			got, ok := appendInput(nil, in)
			if ok && (wantErr != nil || !bytes.Equal(got, want)) {
				t.Fatalf("input %d %T:\ngot  %s\nwant %s %v", i, in, got, want, wantErr)
			}
			if !ok && wantErr == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				t.Fatalf("input %d %T refused", i, in)
			}
		}
	})
}

type myMillis int64

func TestEncodeResultFallsBack(t *testing.T) {
	r := abi.Result{Outcome: abi.OutcomeGiveUp, Details: json.RawMessage(`{"a":`)}
	if _, err := encodeResult(nil, &r); err == nil {
		t.Error("invalid details were encoded")
	}
	r = abi.Result{Outcome: abi.OutcomeUseElement, Point: &abi.Point{X: math.NaN()}}
	if _, err := encodeResult(nil, &r); err == nil {
		t.Error("a NaN point was encoded")
	}
	if _, ok := appendInput(nil, abi.ScreenshotRequest{}); ok {
		t.Error("appendInput took a type it has no encoder for")
	}
}

// responseTargets returns fresh zero values of every response type.
func responseTargets() []any {
	return []any{new(abi.NetworkState), new(abi.PageInfo), new(abi.ActResult), new(abi.ExistsResult), new(abi.LookupResult),
		new(abi.QueryResult), new(abi.Snapshot), new(abi.Resolution)}
}

func hostResponses() [][]byte {
	el := *sampleElement("Buy now", 10.5)
	el.Rect.Width, el.Rect.Height = 80, 32
	var out [][]byte
	for _, v := range []any{
		abi.NetworkState{Online: true, Inflight: 2, IdleMS: 1000}, abi.PageInfo{URL: "https://shop.test/", Title: "Shop", ReadyState: "complete"},
		abi.ActResult{OK: true, URL: "u", Source: "snapshot", Message: "m"}, abi.ExistsResult{Count: 3, Visible: true},
		abi.LookupResult{Host: "h", Addrs: []string{"127.0.0.1", "::1"}, Error: "e"}, abi.QueryResult{Elements: []abi.Element{el, {}}},
		abi.Snapshot{URL: "u", Title: "t", Viewport: abi.Viewport{Width: 1280, Height: 657, ScrollY: 10}, Elements: []abi.Element{el}},
		abi.Resolution{Element: &el, Score: 0.93, Method: "text", Candidates: []abi.Candidate{{Element: el, Score: 0.93, Reasons: []string{"text"}}},
			Details: abi.ResolutionDetails{HealingAttempt: 1, HealingProfile: abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
				RoleAliasesUsed: []string{"link"}, FuzzyThresholdUsed: 0.78, SpatialPaddingUsed: 1.3, Warnings: []string{"w"}}},
	} {
		b, _ := json.Marshal(v)
		out = append(out, b)
	}
	return out
}

func TestFastResponseTakesHostResponses(t *testing.T) {
	for i, resp := range hostResponses() {
		fast, ref := responseTargets()[i], responseTargets()[i]
		if !fastResponse(resp, fast) {
			t.Errorf("%T: the fast path refused %s", fast, resp)
			continue
		}
		if err := json.Unmarshal(resp, ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, ref) {
			t.Errorf("%T:\nfast %+v\nref  %+v", fast, fast, ref)
		}
	}
}

// The response decoders agree with encoding/json or step aside.
func FuzzDecodeResponse(f *testing.F) {
	for _, b := range hostResponses() {
		f.Add(b)
	}
	for _, s := range []string{`null`, `{}`, `{"Online":true}`, `{"online":1}`, `{"elements":null}`, `{"elements":[null]}`,
		`{"candidates":[{"element":null,"reasons":null}]}`, `{"count":1e2}`, `{"url":"\u00e9"} `, `{"addrs":["a",null]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for i := range responseTargets() {
			fast, ref := responseTargets()[i], responseTargets()[i]
			if !fastResponse(in, fast) {
				continue
			}
			if err := json.Unmarshal(in, ref); err != nil {
				t.Fatalf("%T: fast path accepted %q, encoding/json says %v", fast, in, err)
			}
			if !reflect.DeepEqual(fast, ref) {
				t.Fatalf("%T %q:\nfast %#v\nref  %#v", fast, in, fast, ref)
			}
		}
	})
}

// testMillis is a parameter type with its own decoding, like the built-in
// strategies' Millis.
type testMillis int64

func (m *testMillis) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := strconv.Atoi(s)
		*m = testMillis(n)
		return err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("%s is not milliseconds", b)
	}
	*m = testMillis(f)
	return nil
}

type testConfig struct {
	Multiplier float64    `json:"multiplier"`
	TimeoutMS  testMillis `json:"timeout_ms"`
	Count      int        `json:"count,omitempty"`
	Small      int32      `json:"small"`
	Name       string     `json:"name"`
	On         bool       `json:"on"`
	Selectors  []string   `json:"selectors"`
	Skipped    string     `json:"-"`
	hidden     int
}

func defaultTestConfig() testConfig {
	return testConfig{Multiplier: 2, TimeoutMS: 5000, Name: "x", Selectors: []string{"#a"}, Skipped: "s", hidden: 1}
}

func TestConfigFastPath(t *testing.T) {
	raw := []byte(`{"multiplier":1.5,"timeout_ms":"7","count":3,"small":-2,"name":"n","on":true,"selectors":["#b",null],"other":{"x":[1]}}`)
	cfg := defaultTestConfig()
	if !fastConfig(raw, reflect.ValueOf(&cfg).Elem(), configType(reflect.TypeFor[testConfig]())) {
		t.Fatal("the fast path refused a plain configuration")
	}
	want := testConfig{Multiplier: 1.5, TimeoutMS: 7, Count: 3, Small: -2, Name: "n", On: true, Selectors: []string{"#b", ""}, Skipped: "s", hidden: 1}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	var typeErr *json.UnmarshalTypeError
	if err := decodeConfig([]byte(`{"count":"3"}`), &cfg); !errors.As(err, &typeErr) {
		t.Errorf("a string count: %v, want encoding/json's type error", err)
	}
}

// The configuration decoder gives what encoding/json gives, errors included.
func FuzzConfig(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `{"multiplier":3,"timeout_ms":2500.5}`, `{"timeout_ms":"9"}`, `{"timeout_ms":null}`,
		`{"selectors":null}`, `{"selectors":[]}`, `{"Multiplier":3}`, `{"small":3000000000}`, `{"count":1.5}`, `{"name":1}`,
		`{"on":null,"name":null}`, `{"name":"a","name":"b"}`, `{"skipped":"x","hidden":2}`, `{"timeout_ms":"x"}`, `[1]`,
		`{"multiplier":1e400}`, `{"\u006eame":"esc"}`, `{"nam\u212a":"kelvin"}`, ` {"on" : true } `, `{"on":true}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, want := defaultTestConfig(), defaultTestConfig()
		err := decodeConfig(in, &got)
		wantErr := json.Unmarshal(in, &want)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("%q: error %v, encoding/json %v", in, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\ngot  %+v\nwant %+v", in, got, want)
		}
	})
}
