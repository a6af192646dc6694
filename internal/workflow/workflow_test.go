package workflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
)

func TestLoad(t *testing.T) {
	w, err := Load("testdata/checkout.toml")
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "checkout" || w.Browser.Width != 1024 || w.Browser.Height != 700 || len(w.Steps) != 4 {
		t.Fatalf("workflow = %+v", w)
	}
	s0 := w.Steps[0]
	if s0.Action.Kind != abi.ActionClick || s0.Action.Target.CSS != "#add" || s0.Action.Target.Role != "button" ||
		s0.Timeout != 3*time.Second || s0.Action.TimeoutMS != 3000 || s0.Retries != 2 || s0.Line != 12 {
		t.Errorf("step 1 = %+v", s0)
	}
	s3 := w.Steps[3]
	if s3.Timeout != 10*time.Second || s3.Retries != 0 || len(s3.Strategies) != 2 || !s3.URLPattern.MatchString("/thanks?x=1") {
		t.Errorf("step 4 = %+v", s3)
	}
	if got := w.Key(2); got != "checkout/step-3" {
		t.Errorf("Key(2) = %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "name = \"w\"\nstart_url = \"http://x/\"\n"
	tests := []struct {
		name, src  string
		wantLine   int
		wantReason string
	}{
		{"syntax", head + "[[steps]]\naction = \"click\n", 4, ""},
		{"no name", "start_url = \"http://x/\"\n[[steps]]\naction=\"navigate\"\nurl=\"http://x/\"\n", 0, "name is required"},
		{"no steps", head, 0, "no steps"},
		{"unknown action", head + "[[steps]]\naction = \"jump\"\n", 4, `unknown action "jump"`},
		{"missing target", head + "[[steps]]\naction = \"click\"\n", 4, "click needs a target"},
		{"empty target", head + "[[steps]]\naction = \"click\"\ntarget = {}\n", 5, "target is empty"},
		{"missing value", head + "[[steps]]\naction = \"type\"\ntarget = {css = \"#a\"}\n", 4, "type needs a value"},
		{"bad timeout", head + "[[steps]]\naction = \"click\"\ntarget = {css = \"#a\"}\ntimeout = \"soon\"\n", 6, "not a duration"},
		{"bad regex", head + "[[steps]]\naction = \"assert_url\"\nurl_pattern = \"(\"\n", 5, "url_pattern"},
		{"unknown key", head + "[[steps]]\naction = \"click\"\ntarget = {css = \"#a\"}\ncolour = \"red\"\n", 6, `unknown key "steps.colour"`},
		{"bad url", "name=\"w\"\n[[steps]]\naction = \"navigate\"\nurl = \"ftp://x\"\n", 4, "scheme"},
		{"no start", "name=\"w\"\n[[steps]]\naction = \"click\"\ntarget = {css=\"#a\"}\n", 2, "no start_url"},
		{"bad viewport", head + "[browser]\nviewport = \"big\"\n[[steps]]\naction=\"press\"\nvalue=\"Enter\"\n", 4, "viewport"},
		{"retries", head + "[[steps]]\naction=\"press\"\nvalue=\"Enter\"\nretries = 99\n", 6, "retries 99"},
		{"dup name", head + "[[steps]]\nname=\"a\"\naction=\"press\"\nvalue=\"x\"\n[[steps]]\nname=\"a\"\naction=\"press\"\nvalue=\"x\"\n", 7, "already used"},
		{"bad strategy", head + "[[steps]]\naction=\"press\"\nvalue=\"x\"\nstrategies=[\"Drop Table\"]\n", 6, "strategy name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "flow.toml")
			var we *Error
			if !errors.As(err, &we) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if we.File != "flow.toml" || we.Line != tt.wantLine || !strings.Contains(we.Reason, tt.wantReason) {
				t.Errorf("got %q (line %d), want line %d containing %q", err, we.Line, tt.wantLine, tt.wantReason)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("name=\"w\"\nstart_url=\"http://x/\"\n[[steps]]\naction=\"click\"\ntarget={css=\"#a\"}\n"))
	f.Add([]byte("[[steps]]\n[[steps]]\nname=1"))
	f.Add([]byte("name=\"w\"\n[[steps]]\naction=\"assert_url\"\nurl_pattern=\"a(\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := Parse(data, "fuzz.toml")
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(w.Steps) == 0 || w.Name == "" {
			t.Fatalf("accepted an incomplete workflow: %+v", w)
		}
		for _, s := range w.Steps {
			if _, ok := kinds[s.Action.Kind]; !ok {
				t.Fatalf("accepted action %q", s.Action.Kind)
			}
		}
	})
}
