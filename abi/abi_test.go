package abi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{"1.0", MakeVersion(1, 0), false},
		{"1.7", MakeVersion(1, 7), false},
		{"2.13", MakeVersion(2, 13), false},
		{"1", 0, true},
		{"1.0.3", 0, true},
		{"v1.0", 0, true},
		{"", 0, true},
		{"1.x", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseVersion(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (got != tt.want || got.String() != tt.in) {
			t.Errorf("ParseVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCompatible(t *testing.T) {
	tests := []struct {
		host, plugin Version
		want         bool
	}{
		{MakeVersion(1, 0), MakeVersion(1, 0), true},
		{MakeVersion(1, 3), MakeVersion(1, 1), true},
		{MakeVersion(1, 1), MakeVersion(1, 3), false},
		{MakeVersion(2, 0), MakeVersion(1, 0), false},
		{MakeVersion(1, 0), MakeVersion(2, 0), false},
	}
	for _, tt := range tests {
		if got := Compatible(tt.host, tt.plugin); got != tt.want {
			t.Errorf("Compatible(%v, %v) = %v, want %v", tt.host, tt.plugin, got, tt.want)
		}
	}
}

func TestPackPtrLen(t *testing.T) {
	for _, c := range [][2]uint32{{0, 0}, {1, 2}, {0xffffffff, 0xffffffff}, {65536, 1024}} {
		p, l := UnpackPtrLen(PackPtrLen(c[0], c[1]))
		if p != c[0] || l != c[1] {
			t.Errorf("round trip of %v gave %d,%d", c, p, l)
		}
	}
}

func TestHostFuncsUniqueAndResolvable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range HostFuncs {
		key := f.Module() + "." + f.Name
		if seen[key] {
			t.Errorf("duplicate host function %s", key)
		}
		seen[key] = true
		got, ok := LookupHostFunc(f.Module(), f.Name)
		if !ok || got != f {
			t.Errorf("LookupHostFunc(%s) = %v, %v", key, got, ok)
		}
		if _, ok := CapabilityOfModule(f.Module()); !ok {
			t.Errorf("%s: module has no capability", key)
		}
	}
	if _, ok := LookupHostFunc("heal_browser", "nope"); ok {
		t.Error("unknown function resolved")
	}
	if _, ok := CapabilityOfModule("env"); ok {
		t.Error("env resolved to a capability")
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int32
	}{
		{nil, 0},
		{fmt.Errorf("query #x: %w", ErrNotFound), StatusNotFound},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), StatusTimeout},
		{ErrUnavailable, StatusUnavailable},
		{ErrBadRequest, StatusBadRequest},
		{errors.New("boom"), StatusFailed},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
		if tt.want < 0 && StatusText(tt.want) == "unknown" {
			t.Errorf("status %d has no name", tt.want)
		}
	}
}

// The JSON names are the contract; a renamed field would break every guest.
func TestRequestJSONNames(t *testing.T) {
	req := Request{
		Strategy: "wait_longer",
		Error:    ErrorInfo{Type: "element_not_found", Message: "m"},
		Action:   Action{Kind: ActionClick, Target: &Target{CSS: "#a"}},
		Attempt:  1,
		Healing:  HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"strategy":"wait_longer","error":{"type":"element_not_found","message":"m"},"action":{"kind":"click","target":{"css":"#a"}},"attempt":1,"healing":{"level":1,"min_ratio":0.78,"pad_mul":1.3,"expand_roles":true},"deadline_ms":0}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestOutcomeValid(t *testing.T) {
	for _, o := range []Outcome{OutcomeRetry, OutcomeUseElement, OutcomeGiveUp, OutcomeAbort, OutcomeDone} {
		if !o.Valid() {
			t.Errorf("%q not valid", o)
		}
	}
	if Outcome("success").Valid() {
		t.Error(`"success" accepted`)
	}
}

func TestLocatorFor(t *testing.T) {
	top := LocatorFor(Element{XPath: "/html[1]/body[1]/a[1]"})
	if top.XPath != "/html[1]/body[1]/a[1]" {
		t.Errorf("top document: %q", top.XPath)
	}
	nested := LocatorFor(Element{XPath: "/html[1]/body[1]/button[1]", Frame: []string{"/html[1]/body[1]/iframe[1]", "/html[1]/body[1]/x-pay[1]"}})
	if want := "/html[1]/body[1]/iframe[1] >> /html[1]/body[1]/x-pay[1] >> /html[1]/body[1]/button[1]"; nested.XPath != want {
		t.Errorf("nested: %q, want %q", nested.XPath, want)
	}
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		t    *Target
		want string
	}{
		{nil, "(no target)"},
		{&Target{}, "(empty target)"},
		{&Target{CSS: "#buy", Text: `Buy "now"`}, `css="#buy" text="Buy \"now\""`},
		{&Target{Role: "button", Fingerprint: &Element{Tag: "a", Attrs: map[string]string{"id": "x"}}}, `role="button" fingerprint="a#x"`},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}
