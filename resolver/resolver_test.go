package resolver

import (
	"errors"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
)

func TestProfile(t *testing.T) {
	tests := []struct {
		level int
		want  abi.HealingProfile
	}{
		{-1, abi.HealingProfile{Level: 0, MinRatio: 0.82, PadMul: 1.0}},
		{0, abi.HealingProfile{Level: 0, MinRatio: 0.82, PadMul: 1.0}},
		{1, abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true}},
		{2, abi.HealingProfile{Level: 2, MinRatio: 0.72, PadMul: 1.7, ExpandRoles: true}},
		{7, abi.HealingProfile{Level: 7, MinRatio: 0.72, PadMul: 1.7, ExpandRoles: true}},
	}
	for _, tt := range tests {
		if got := Profile(tt.level); got != tt.want {
			t.Errorf("Profile(%d) = %+v, want %+v", tt.level, got, tt.want)
		}
	}
}

func TestInvalidProfileFallsBackToStrict(t *testing.T) {
	s := snap(el("button", "/html[1]/body[1]/button[1]", 10, 10, 80, 30, nil, "Sbumti"))
	bad := abi.HealingProfile{Level: 1, MinRatio: 1.7, PadMul: 0.5, ExpandRoles: true}
	res, err := New().ResolveProfile(&s, abi.Target{Text: "Submit"}, bad, 5)
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("err = %v, want ErrNoMatch (strict 0.82 rejects a 0.67 match)", err)
	}
	if res.Details.FuzzyThresholdUsed != 0.82 || len(res.Details.Warnings) == 0 || !strings.Contains(res.Details.Warnings[0], "min_ratio 1.7") {
		t.Fatalf("details = %+v, want strict threshold and a warning naming min_ratio", res.Details)
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"Submit", " submit\n", 1},
		{"", "", 1},
		{"a", "", 0},
		{"Submit", "Sbumit", 1 - 1.0/6},
		{"abcdef", "badcfe", 0.5},
		{"kitten", "sitting", 1 - 3.0/7},
		{"Submit", "Submit order", 0.5},
	}
	for _, tt := range tests {
		if got := Ratio(tt.a, tt.b); abs(got-tt.want) > 1e-9 {
			t.Errorf("Ratio(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if got := TextSimilarity("Submit", "Submit order"); got < 0.8 {
		t.Errorf("TextSimilarity(Submit, Submit order) = %v, want >= 0.8 (all words kept)", got)
	}
	if got := TextSimilarity("Submit", "Cancel order"); got > 0.5 {
		t.Errorf("TextSimilarity(Submit, Cancel order) = %v, want low", got)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestMatchCSS(t *testing.T) {
	s := snap(
		el("form", "/html[1]/body[1]/form[1]", 0, 0, 500, 300, map[string]string{"id": "checkout", "class": "card"}, "Pay"),
		el("button", "/html[1]/body[1]/form[1]/div[1]/button[1]", 10, 10, 80, 30, map[string]string{"id": "buy", "class": "btn primary", "data-test": "buy"}, "Buy"),
		el("button", "/html[1]/body[1]/form[1]/button[1]", 10, 50, 80, 30, map[string]string{"class": "btn"}, "Cancel"),
		el("a", "/html[1]/body[1]/nav[1]/a[1]", 10, 400, 80, 30, map[string]string{"href": "/help", "class": "btn"}, "Help"),
	)
	s.Elements[2].IDXPath = `//*[@id="checkout"]/button[1]`
	s.Elements[1].IDXPath = `//*[@id="buy"]`
	tests := []struct {
		css  string
		want []int
	}{
		{"#buy", []int{1}},
		{"button.btn", []int{1, 2}},
		{".btn.primary", []int{1}},
		{"[data-test=buy]", []int{1}},
		{"a[href^='/he']", []int{3}},
		{"form button", []int{1, 2}},
		{"form > button", []int{2}},
		{"#checkout > button", []int{2}},
		{"nav a, #buy", []int{1, 3}},
		{"div > button", []int{1}},
		{"section button", nil},
		{"*[class~=primary]", []int{1}},
	}
	for _, tt := range tests {
		got, err := MatchCSS(&s, tt.css)
		if err != nil {
			t.Errorf("MatchCSS(%q): %v", tt.css, err)
			continue
		}
		if !equalInts(got, tt.want) {
			t.Errorf("MatchCSS(%q) = %v, want %v", tt.css, got, tt.want)
		}
	}
	fr := snap(
		el("iframe", "/html[1]/body[1]/iframe[1]", 0, 0, 300, 300, map[string]string{"id": "pay"}, ""),
		el("button", "/html[1]/body[1]/button[1]", 10, 10, 80, 30, map[string]string{"id": "go"}, "Go"),
		el("button", "/html[1]/body[1]/button[1]", 10, 10, 80, 30, map[string]string{"id": "go"}, "Go"),
	)
	fr.Elements[2].Frame = []string{"/html[1]/body[1]/iframe[1]"}
	for css, want := range map[string][]int{"#go": {1, 2}, "iframe >> #go": {2}, "#pay >> button": {2}, "#other >> #go": nil} {
		if got, err := MatchCSS(&fr, css); err != nil || !equalInts(got, want) {
			t.Errorf("MatchCSS(%q) = %v %v, want %v", css, got, err, want)
		}
	}
	for _, bad := range []string{"", "a:hover", "a + b", "div >", "[x=", "a ~ b"} {
		if _, err := MatchCSS(&s, bad); !errors.Is(err, ErrSelector) || !errors.Is(err, abi.ErrBadRequest) {
			t.Errorf("MatchCSS(%q) err = %v, want ErrSelector", bad, err)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResolveMethods(t *testing.T) {
	s := snap(
		el("label", "/html[1]/body[1]/form[1]/label[1]", 10, 10, 60, 20, map[string]string{"for": "email"}, "Email"),
		el("input", "/html[1]/body[1]/form[1]/input[1]", 80, 10, 200, 20, map[string]string{"id": "email", "placeholder": "you@example.com", "type": "email"}, ""),
		el("button", "/html[1]/body[1]/form[1]/button[1]", 80, 40, 80, 30, map[string]string{"type": "submit"}, "Submit"),
		el("span", "/html[1]/body[1]/form[1]/button[1]/span[1]", 85, 45, 60, 20, nil, "Submit"),
		el("a", "/html[1]/body[1]/footer[1]/a[1]", 10, 700, 80, 20, map[string]string{"href": "/x"}, "Submit a bug"),
		el("div", "/html[1]/body[1]/div[1]", 900, 10, 80, 30, map[string]string{"role": "button", "class": "cta"}, "Go"),
	)
	s.Elements[1].Name = "Email"
	s.Elements[1].Neighbors.Left = "Email"
	s.Elements[5].Role = "cta"
	tests := []struct {
		name   string
		target abi.Target
		level  int
		want   int
		method string
	}{
		{"css", abi.Target{CSS: "#email"}, 0, 1, MethodCSS},
		{"xpath", abi.Target{XPath: "/html/body/form/button"}, 0, 2, MethodXPath},
		{"text prefers the button over its span", abi.Target{Text: "submit"}, 0, 2, MethodText},
		{"fuzzy text at level 2", abi.Target{Text: "Sumbit"}, 2, 2, MethodText},
		{"label", abi.Target{Label: "Email"}, 0, 1, MethodLabel},
		{"placeholder", abi.Target{Placeholder: "you@example.com"}, 0, 1, MethodPlaceholder},
		{"role with text", abi.Target{Role: "link", Text: "Submit a bug"}, 0, 4, MethodText},
		{"role alias", abi.Target{Role: "button", Text: "Go"}, 1, 5, MethodText},
		{"near", abi.Target{Near: "Email", Role: "textbox"}, 0, 1, MethodRole},
		{"css falls back to text", abi.Target{CSS: "#gone", Text: "Submit"}, 0, 2, MethodText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Resolve(s, tt.target, tt.level)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if res.Element == nil || res.Element.Index != tt.want || res.Method != tt.method {
				t.Fatalf("chose %v by %q, want #%d by %q; candidates %+v", res.Element, res.Method, tt.want, tt.method, res.Candidates)
			}
			if res.Details.HealingAttempt != tt.level || res.Details.FuzzyThresholdUsed != Profile(tt.level).MinRatio {
				t.Errorf("details = %+v", res.Details)
			}
		})
	}
}

func TestResolveFailures(t *testing.T) {
	s := snap(
		el("button", "/html[1]/body[1]/ul[1]/li[1]/button[1]", 10, 10, 80, 30, map[string]string{"class": "del"}, "Delete"),
		el("button", "/html[1]/body[1]/ul[1]/li[2]/button[1]", 10, 50, 80, 30, map[string]string{"class": "del"}, "Delete"),
	)
	_, err := Resolve(s, abi.Target{Text: "Delete"}, 0)
	if !errors.Is(err, ErrAmbiguous) || !errors.Is(err, abi.ErrNotFound) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	if !strings.Contains(err.Error(), "li[1]/button[1]") || !strings.Contains(err.Error(), "li[2]/button[1]") {
		t.Errorf("error %q does not name both candidates", err)
	}
	if _, err := Resolve(s, abi.Target{Text: "Remove"}, 2); !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), `text="Remove"`) {
		t.Errorf("err = %v, want ErrNoMatch naming the target", err)
	}
	if _, err := Resolve(s, abi.Target{}, 0); !errors.Is(err, ErrEmptyTarget) {
		t.Errorf("err = %v, want ErrEmptyTarget", err)
	}
	if _, err := Resolve(s, abi.Target{CSS: "a:hover"}, 0); !errors.Is(err, abi.ErrBadRequest) {
		t.Errorf("err = %v, want a bad request", err)
	}
}

// page returns version 1 and 2 of a small checkout page; v2 is built by
// changing v1 with mut.
func checkout() abi.Snapshot {
	total := el("p", "/html[1]/body[1]/main[1]/p[1]", 100, 150, 200, 20, nil, "Total: $12")
	qty := el("label", "/html[1]/body[1]/main[1]/form[1]/label[1]", 20, 200, 70, 30, nil, "Quantity")
	buy := el("button", "/html[1]/body[1]/main[1]/form[1]/button[1]", 100, 200, 80, 32,
		map[string]string{"id": "buy", "class": "btn primary", "type": "submit"}, "Submit")
	buy.Neighbors = abi.Neighbors{Above: "Total: $12", Left: "Quantity"}
	cancel := el("button", "/html[1]/body[1]/main[1]/form[1]/button[2]", 200, 200, 80, 32,
		map[string]string{"id": "cancel", "class": "btn", "type": "button"}, "Cancel")
	cancel.Neighbors = abi.Neighbors{Above: "Total: $12", Left: "Submit"}
	help := el("a", "/html[1]/body[1]/footer[1]/a[1]", 20, 700, 60, 20, map[string]string{"href": "/help"}, "Help")
	return snap(total, qty, buy, cancel, help)
}

func TestFingerprintHealing(t *testing.T) {
	fp := checkout().Elements[2]
	tests := []struct {
		name string
		mut  func(s *abi.Snapshot) // changes version 2
	}{
		{"renamed id and classes", func(s *abi.Snapshot) {
			s.Elements[2].Attrs = map[string]string{"id": "place-order", "class": "button-main", "type": "submit"}
			s.Elements[2].IDXPath = `//*[@id="place-order"]`
		}},
		{"changed text", func(s *abi.Snapshot) {
			e := &s.Elements[2]
			e.Text, e.VisibleText, e.Name = "Submit order", "Submit order", "Submit order"
			e.Rect.Width = 120
		}},
		{"moved in the layout", func(s *abi.Snapshot) {
			s.Elements[2].Rect.X, s.Elements[2].Rect.Y = 600, 420
			s.Elements[2].Neighbors = abi.Neighbors{Left: "Total: $12", Above: "Quantity"}
		}},
		{"wrapped in new containers", func(s *abi.Snapshot) {
			s.Elements[2].XPath = "/html[1]/body[1]/main[1]/form[1]/div[1]/div[1]/button[1]"
		}},
		{"button turned into a link with role=button", func(s *abi.Snapshot) {
			e := &s.Elements[2]
			e.Tag, e.Role = "a", "button"
			e.Attrs = map[string]string{"id": "buy", "class": "btn primary", "role": "button", "href": "#"}
			e.XPath = "/html[1]/body[1]/main[1]/form[1]/a[1]"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v2 := checkout()
			tt.mut(&v2)
			res, err := Resolve(v2, abi.Target{CSS: "#buy-old", Fingerprint: &fp}, 1)
			if err != nil {
				t.Fatalf("Resolve: %v (candidates %+v)", err, res.Candidates)
			}
			if res.Element.Index != 2 || res.Method != MethodFingerprint {
				t.Fatalf("chose #%d by %s, want #2 by fingerprint; candidates %+v", res.Element.Index, res.Method, res.Candidates)
			}
		})
	}
}

func TestFingerprintRefusesTwins(t *testing.T) {
	v1 := checkout()
	fp := v1.Elements[2]
	v2 := checkout()
	twin := v2.Elements[2]
	twin.Attrs = map[string]string{"class": "btn primary", "type": "submit"}
	v2.Elements[2].Attrs = map[string]string{"class": "btn primary", "type": "submit"}
	v2.Elements[2].Rect.Y, twin.Rect.Y = 150, 250
	twin.XPath = "/html[1]/body[1]/main[1]/form[1]/button[3]"
	v2.Elements = append(v2.Elements, twin)
	v2.Elements[len(v2.Elements)-1].Index = len(v2.Elements) - 1
	res, err := Resolve(v2, abi.Target{Fingerprint: &fp}, 2)
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v, chose %v; want ErrAmbiguous (candidates %+v)", err, res.Element, res.Candidates)
	}
	if res.Element != nil || len(res.Candidates) < 2 {
		t.Errorf("resolution %+v: want no element and the candidates", res)
	}
}

func TestFingerprintNoMatch(t *testing.T) {
	fp := checkout().Elements[2]
	v2 := checkout()
	v2.Elements = append(v2.Elements[:2], v2.Elements[3:]...)
	res, err := Resolve(v2, abi.Target{Fingerprint: &fp}, 0)
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("err = %v chose %v; want ErrNoMatch (candidates %+v)", err, res.Element, res.Candidates)
	}
}

func TestStability(t *testing.T) {
	for _, v := range []string{"css-1x2y3z", "ember1234", ":r1:", "a8f3c2d1e9", "btn-4f9a2", "sc-bdVaJa"} {
		if Stability(v) == 1 {
			t.Errorf("Stability(%q) = 1, want generated", v)
		}
	}
	for _, v := range []string{"buy", "place-order", "btn primary", "nav-item", "h2"} {
		if Stability(v) != 1 {
			t.Errorf("Stability(%q) = %v, want 1", v, Stability(v))
		}
	}
}

func TestROI(t *testing.T) {
	vp := abi.Viewport{Width: 1280, Height: 800}
	r, clamped := ROI(abi.Rect{X: 500, Y: 300, Width: 100, Height: 20}, 1, vp)
	if clamped || r != (abi.Rect{X: 380, Y: 180, Width: 340, Height: 260}) {
		t.Errorf("ROI = %+v clamped %v", r, clamped)
	}
	r, clamped = ROI(abi.Rect{X: 10, Y: 10, Width: 100, Height: 20}, 1.7, vp)
	if !clamped || r.X != 0 || r.Y != 0 {
		t.Errorf("ROI near the corner = %+v clamped %v, want clamped at 0,0", r, clamped)
	}
}

func TestServiceUnavailable(t *testing.T) {
	_, err := NewService(nil, nil).Resolve(t.Context(), abi.ResolveRequest{Target: abi.Target{Text: "x"}})
	if !errors.Is(err, abi.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
