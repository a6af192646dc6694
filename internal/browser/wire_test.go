package browser

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/selfheal/engine/abi"
)

// objectQuery is page.js's reference answer to query-objects.
type objectQuery struct {
	Elements []abi.Element `json:"elements"`
	Error    string        `json:"error"`
}

// The compact records decode to exactly the records of the plain object
// form, on pages with frames, shadow roots, hidden and disabled elements,
// long texts, unicode with lone surrogates and data attributes.
func TestCompactRecordsMatchObjects(t *testing.T) {
	pages := map[string]string{"/big": bigPage()}
	files, err := filepath.Glob("testdata/wire/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test pages: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages["/"+strings.TrimSuffix(filepath.Base(f), ".html")] = string(b)
	}
	queries := []abi.Query{
		{CSS: "button"}, {CSS: "a, p"}, {XPath: "//li"}, {CSS: "#fr >> button"},
		{CSS: "#fr >> iframe >> button"}, {CSS: "#host >> #inner-host >> a"}, {CSS: "#missing >> button"},
		{CSS: "#nothing"}, {CSS: "button", Limit: 2},
	}
	srv := serve(t, pages)
	s := newSession(t, SessionOptions{})
	for path := range pages {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL + path}); err != nil {
				t.Fatal(err)
			}
			c, _, done, err := s.opCtx(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			want, err := eval[abi.Snapshot](c, "snapshot-objects", nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Snapshot(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Elements) == 0 && path != "/empty" {
				t.Fatal("the reference snapshot is empty")
			}
			if path == "/mixed" {
				coversHardCases(t, want.Elements)
			}
			sameRecords(t, "snapshot", got.Elements, want.Elements)
			got.Elements, want.Elements = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("snapshot header %+v, want %+v", got, want)
			}
			for _, q := range queries {
				jt, _, err := targetOf(q.CSS, q.XPath)
				if err != nil {
					t.Fatal(err)
				}
				jt.Limit = q.Limit
				want, err := eval[objectQuery](c, "query-objects", jt)
				if err != nil {
					t.Fatal(err)
				}
				got, err := eval[queryAnswer](c, "query", jt)
				if err != nil {
					t.Fatal(err)
				}
				if got.Error != want.Error {
					t.Errorf("query %+v: error %q, want %q", q, got.Error, want.Error)
				}
				sameRecords(t, "query "+q.CSS+q.XPath, got.Elements, want.Elements)
			}
		})
	}
}

func sameRecords(t *testing.T, what string, got, want []abi.Element) {
	t.Helper()
	if (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("%s: %d records (nil %v), want %d (nil %v)", what, len(got), got == nil, len(want), want == nil)
	}
	bad := 0
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: record %d\n got %#v\nwant %#v", what, i, got[i], want[i])
			if bad++; bad == 3 {
				return
			}
		}
	}
}

// Malformed compact answers are errors, not panics or wrong records.
func TestCompactRecordsMalformed(t *testing.T) {
	const ok = `["a",0,"t",0,"",0,0,"html[1]",2,1,2,3,4,3,0,0]`
	tests := []struct{ name, els string }{
		{"string number out of range", `[["a",0,"t",7,"",0,0,"html[1]",2,1,2,3,4,3,0,0]]`},
		{"keeps more steps than the last xpath has", `[["a",0,"t",0,"",0,3,"html[1]",2,1,2,3,4,3,0,0]]`},
		{"odd attribute list", `[["a",["id"],"t",0,"",0,0,"html[1]",3,1,2,3,4,3,0,0]]`},
		{"three neighbours", `[["a",0,"t",0,"",0,0,"html[1]",2,1,2,3,4,3,[0,0,0],0]]`},
		{"unknown frame", `[["a",0,"t",0,"",0,0,"html[1]",2,1,2,3,4,3,0,4]]`},
		{"short record", `[["a",0,"t"]]`},
		{"long record", `[["a",0,"t",0,"",0,0,"html[1]",2,1,2,3,4,3,0,0,0]]`},
		{"object for a string", `[["a",0,{},0,"",0,0,"html[1]",2,1,2,3,4,3,0,0]]`},
		{"string for a number", `[["a",0,"t",0,"",0,0,"html[1]",2,"1",2,3,4,3,0,0]]`},
		{"second record refers ahead", `[` + ok + `,["b",0,9,0,"",0,1,"",2,1,2,3,4,3,0,0]]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a snapshotAnswer
			err := a.UnmarshalJSONFrom(jsontext.NewDecoder(strings.NewReader(`{"url":"u","els":` + tc.els + `}`)))
			if err == nil {
				t.Fatalf("decoded %+v", a.Elements)
			}
		})
	}
	var a snapshotAnswer
	in := `{"url":"u","title":"t","viewport":{"width":10,"height":20},"extra":[1,{"x":2}],"els":[` + ok +
		`,["b",["id",4],1,"v",0,4,1,"body[1]/b[1]",0,null,2.5,3,4,1,[4,5,"",5],["/f[1]","/g[2]"]],["c",0,1,2,3,4,2,"",8,1,2,3,4,0,0,1]]}`
	if err := a.UnmarshalJSONFrom(jsontext.NewDecoder(strings.NewReader(in))); err != nil {
		t.Fatal(err)
	}
	want := abi.Snapshot{URL: "u", Title: "t", Viewport: abi.Viewport{Width: 10, Height: 20}, Elements: []abi.Element{
		{Index: 0, Tag: "a", Attrs: map[string]string{}, Text: "t", VisibleText: "a", Name: "a", XPath: "/html[1]",
			Rect: abi.Rect{X: 1, Y: 2, Width: 3, Height: 4}, Visible: true, Enabled: true, Frame: []string{}},
		{Index: 1, Tag: "b", Attrs: map[string]string{"id": "b"}, Text: "t", VisibleText: "v", Role: "a", Name: "b",
			XPath: "/html[1]/body[1]/b[1]", IDXPath: "a", Rect: abi.Rect{X: 0, Y: 2.5, Width: 3, Height: 4}, Visible: true,
			Neighbors: abi.Neighbors{Above: "b", Below: "id", Right: "id"}, Frame: []string{"/f[1]", "/g[2]"}},
		{Index: 2, Tag: "c", Attrs: map[string]string{}, Text: "t", Role: "html[1]", Name: "b",
			XPath: "/html[1]/body[1]", Rect: abi.Rect{X: 1, Y: 2, Width: 3, Height: 4}, Frame: []string{"/f[1]", "/g[2]"}},
	}}
	if !reflect.DeepEqual(a.Snapshot, want) {
		t.Errorf("decoded\n%#v\nwant\n%#v", a.Snapshot, want)
	}
}

// coversHardCases checks that the mixed page exercises what the compact
// form must get right.
func coversHardCases(t *testing.T, els []abi.Element) {
	t.Helper()
	has := map[string]bool{}
	for _, e := range els {
		has["two frames deep"] = has["two frames deep"] || len(e.Frame) == 2 && strings.Contains(e.Frame[1], "iframe")
		has["nested shadow root"] = has["nested shadow root"] || len(e.Frame) == 2 && strings.Contains(e.Frame[1], "div")
		has["lone surrogate"] = has["lone surrogate"] || strings.ContainsRune(e.Text, '\uFFFD')
		has["long text"] = has["long text"] || len(e.Text) == 300
		has["disabled"] = has["disabled"] || !e.Enabled
		has["hidden"] = has["hidden"] || !e.Visible
		has["data attribute"] = has["data attribute"] || e.Attrs["data-test"] != ""
		has["neighbours"] = has["neighbours"] || e.Neighbors.Above != "" && e.Neighbors.Left != ""
		has["id xpath"] = has["id xpath"] || strings.Contains(e.IDXPath, "]/")
	}
	for _, c := range []string{"two frames deep", "nested shadow root", "lone surrogate", "long text", "disabled", "hidden", "data attribute", "neighbours", "id xpath"} {
		if !has[c] {
			t.Errorf("the mixed page has no element with %s", c)
		}
	}
}

// Any input decodes or fails with an error; none panics, and decoded
// records are numbered by position.
func FuzzCompactRecords(f *testing.F) {
	f.Add(`{"url":"u","n":2,"els":[["a",["id","x"],"t",0,"",0,0,"html[1]",2,1,2,3,4,3,[0,1,2,3],0],["b",0,1,1,1,1,1,"b[1]",4,0,0,0,0,0,0,["/f[1]"]]]}`)
	f.Add(`{"n":99999999999,"els":[]}`)
	f.Add(`{"els":[["a",0,"t",0,"",0,1,"",2,1,2,3,4,3,0,0]]}`)
	f.Fuzz(func(t *testing.T, in string) {
		var a snapshotAnswer
		if err := a.UnmarshalJSONFrom(jsontext.NewDecoder(strings.NewReader(in), pageJSON)); err != nil {
			return
		}
		for i, e := range a.Elements {
			if e.Index != i || e.Attrs == nil || e.Frame == nil {
				t.Fatalf("record %d: %+v", i, e)
			}
		}
	})
}
