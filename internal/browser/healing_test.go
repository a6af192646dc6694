package browser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/resolver"
)

// page wraps a body in a document whose buttons record clicks in the title.
func htmlPage(body string) string {
	return `<!doctype html><html><head><title>start</title><style>body{font:16px sans-serif}</style></head><body>` + body + `</body></html>`
}

const form1 = `<main><p>Total: $12</p><form onsubmit="return false">
<label>Quantity <input name="qty" value="1"></label>
<button id="submit-btn" class="btn primary" onclick="document.title='submitted'">Submit</button>
<button id="cancel" class="btn" onclick="document.title='cancelled'">Cancel</button></form>
<footer><a href="#help">Help</a></footer></main>`

func TestHealingInChromium(t *testing.T) {
	tests := []struct {
		name       string
		v1, v2     string
		fpSelector string // css of the element in version 1
		want       string // title after clicking the resolved element
	}{
		{"renamed id and classes", form1, strings.NewReplacer(`id="submit-btn" class="btn primary"`, `id="place-order" class="button-main"`).Replace(form1), "#submit-btn", "submitted"},
		{"changed text", form1, strings.NewReplacer(">Submit<", ">Submit order<", `id="submit-btn"`, `id="submit-order"`).Replace(form1), "#submit-btn", "submitted"},
		{"moved in the layout", form1, strings.Replace(form1, `<button id="submit-btn"`, `<button style="position:absolute;left:600px;top:400px" id="submit-moved"`, 1), "#submit-btn", "submitted"},
		{"wrapped in new containers", form1, strings.NewReplacer(`<button id="submit-btn" class="btn primary" onclick="document.title='submitted'">Submit</button>`,
			`<div class="row"><div class="col"><button id="sb" class="btn primary" onclick="document.title='submitted'">Submit</button></div></div>`).Replace(form1), "#submit-btn", "submitted"},
		{"button turned into a link with role=button", form1, strings.NewReplacer(`<button id="submit-btn" class="btn primary" onclick="document.title='submitted'">Submit</button>`,
			`<a href="#" role="button" id="submit-link" class="btn primary" onclick="document.title='submitted';return false">Submit</a>`).Replace(form1), "#submit-btn", "submitted"},
		{"inside an iframe", `<p>Pay below</p><iframe src="/f1" width="500" height="200"></iframe>`, `<p>Pay below</p><iframe src="/f2" width="500" height="200"></iframe>`,
			"iframe >> #pay", "paid"},
		{"inside a shadow root", shadowPage("pay", "Pay now"), shadowPage("pay-v2", "Pay now"), "#host >> #pay", "paid"},
	}
	srvPages := map[string]string{
		"/f1": htmlPage(`<button id="pay" onclick="parent.document.title='paid'">Pay now</button>`),
		"/f2": htmlPage(`<p>Card</p><button id="pay-2" class="x" onclick="parent.document.title='paid'">Pay now</button>`),
	}
	for i, tt := range tests {
		srvPages[fmt.Sprintf("/v1-%d", i)] = htmlPage(tt.v1)
		srvPages[fmt.Sprintf("/v2-%d", i)] = htmlPage(tt.v2)
	}
	srv := serve(t, srvPages)
	s := newSession(t, SessionOptions{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := s.Navigate(ctx, abi.Navigation{URL: fmt.Sprintf("%s/v1-%d", srv.URL, i)}); err != nil {
				t.Fatal(err)
			}
			fp := fingerprintOf(t, s, tt.fpSelector)
			if _, err := s.Navigate(ctx, abi.Navigation{URL: fmt.Sprintf("%s/v2-%d", srv.URL, i)}); err != nil {
				t.Fatal(err)
			}
			if ex, _ := s.Exists(ctx, abi.Query{CSS: tt.fpSelector}); ex.Count != 0 {
				t.Fatalf("version 2 still matches %s; the case tests nothing", tt.fpSelector)
			}
			snap, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := resolver.Resolve(snap, abi.Target{CSS: tt.fpSelector, Fingerprint: &fp}, 1)
			if err != nil {
				t.Fatalf("resolve: %v\ncandidates: %+v", err, res.Candidates)
			}
			if _, err := s.Click(ctx, LocatorFor(*res.Element)); err != nil {
				t.Fatalf("click %s: %v", resolver.Describe(res.Element), err)
			}
			if got := title(t, s); got != tt.want {
				t.Fatalf("clicked %s (score %.2f): title %q, want %q", resolver.Describe(res.Element), res.Score, got, tt.want)
			}
		})
	}
}

func shadowPage(id, text string) string {
	return `<p>Checkout</p><div id="host"></div><script>
document.getElementById('host').attachShadow({mode:'open'}).innerHTML =
  '<div class="card"><button id="` + id + `" onclick="document.title=\'paid\'">` + text + `</button></div>';
</script>`
}

// fingerprintOf takes the snapshot record of the element a css path
// (frames joined by " >> ") selects.
func fingerprintOf(t *testing.T, s *Session, css string) abi.Element {
	t.Helper()
	els, err := s.Query(t.Context(), abi.Query{CSS: css})
	if err != nil || len(els) != 1 {
		t.Fatalf("query %s: %v %v", css, els, err)
	}
	snap, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Elements {
		if e.XPath == els[0].XPath && strings.Join(e.Frame, "|") == strings.Join(els[0].Frame, "|") {
			return e
		}
	}
	t.Fatalf("%s (%s in %v) is not in the snapshot", css, els[0].XPath, els[0].Frame)
	return abi.Element{}
}

func TestHealingRefusesTwins(t *testing.T) {
	row := func(id string) string {
		return `<li><span>Item</span> <button ` + id + ` class="del" onclick="document.title='deleted'">Delete</button></li>`
	}
	srv := serve(t, map[string]string{
		"/v1": htmlPage(`<ul style="margin-top:100px">` + row(`id="del"`) + `</ul>`),
		"/v2": htmlPage(`<ul style="margin-top:76px">` + row("") + row("") + `</ul>`),
	})
	s := newSession(t, SessionOptions{})
	ctx := t.Context()
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/v1"}); err != nil {
		t.Fatal(err)
	}
	fp := fingerprintOf(t, s, "#del")
	if _, err := s.Navigate(ctx, abi.Navigation{URL: srv.URL + "/v2"}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := resolver.Resolve(snap, abi.Target{CSS: "#del", Fingerprint: &fp}, 2)
	if !errors.Is(err, resolver.ErrAmbiguous) {
		t.Fatalf("err = %v, chose %v; want a refusal (candidates %+v)", err, res.Element, res.Candidates)
	}
	if got := title(t, s); got != "start" {
		t.Errorf("something was clicked: %q", got)
	}
}
