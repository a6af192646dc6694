package vision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/browser"
)

var testBrowser *browser.Browser

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	b, err := browser.Launch(ctx, browser.Options{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBrowser = b
	code := m.Run()
	b.Close()
	os.Exit(code)
}

// canvasPage draws its labels on a canvas only; a click records where it hit.
const canvasPage = `<!doctype html><title>start</title><body style="margin:0">
<canvas id="c" width="1280" height="800"></canvas><script>
const c = document.getElementById('c'), g = c.getContext('2d');
g.fillStyle = '#fff'; g.fillRect(0, 0, 1280, 800);
g.fillStyle = '#000'; g.font = '28px sans-serif';
g.fillText('Welcome back', 80, 100);
g.fillRect(700, 480, 1, 1);
g.fillText('Go', 300, 300);
g.fillText('Checkout now', 760, 520);
c.addEventListener('click', e => {
  const x = e.offsetX, y = e.offsetY;
  document.title = (x > 750 && x < 960 && y > 490 && y < 530) ? 'checkout:' + e.isTrusted :
                   (x > 295 && x < 340 && y > 270 && y < 305) ? 'go:' + e.isTrusted : 'missed ' + x + ',' + y;
});
</script></body>`

func canvasSession(t *testing.T) *browser.Session {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, canvasPage)
	}))
	t.Cleanup(srv.Close)
	s, err := testBrowser.NewSession(t.Context(), browser.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Navigate(t.Context(), abi.Navigation{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocateTextOnCanvas(t *testing.T) {
	s := canvasSession(t)
	l := New(s, Options{})
	for _, tt := range []struct{ text, title string }{{"Checkout now", "checkout:true"}, {"Go", "go:true"}, {"checkout", "checkout:true"}} {
		loc, err := l.LocateText(t.Context(), abi.LocateTextRequest{Text: tt.text, MinRatio: 0.72})
		if err != nil {
			t.Fatalf("%q: %v", tt.text, err)
		}
		if !loc.Found || loc.Confidence <= 0 {
			t.Errorf("%q: %+v", tt.text, loc)
		}
		if _, err := s.Click(t.Context(), abi.Locator{Point: &loc.Point}); err != nil {
			t.Fatal(err)
		}
		pi, _ := s.PageInfo(t.Context())
		if pi.Title != tt.title {
			t.Errorf("clicking %q at %+v: title %q, want %q", tt.text, loc.Point, pi.Title, tt.title)
		}
	}
	_, err := l.LocateText(t.Context(), abi.LocateTextRequest{Text: "Delete account"})
	if !errors.Is(err, abi.ErrNotFound) {
		t.Errorf("missing text: %v", err)
	}
}

func TestLocateTextErrors(t *testing.T) {
	if _, err := New(nil, Options{}).LocateText(t.Context(), abi.LocateTextRequest{Text: "x"}); !errors.Is(err, abi.ErrUnavailable) {
		t.Errorf("no source: %v", err)
	}
	if _, err := New(nil, Options{}).LocateText(t.Context(), abi.LocateTextRequest{}); !errors.Is(err, abi.ErrBadRequest) {
		t.Errorf("empty text: %v", err)
	}
	l := New(nil, Options{Tesseract: "/nonexistent/tesseract"})
	if _, err := l.OCR(t.Context(), []byte("x")); !errors.Is(err, abi.ErrUnavailable) {
		t.Errorf("missing binary: %v", err)
	}
}

func TestParseTSVAndMatch(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"5\t1\t1\t1\t1\t1\t100\t200\t80\t30\t95.5\tSubmit\n" +
		"5\t1\t1\t1\t1\t2\t190\t200\t70\t30\t90\torder\n" +
		"5\t1\t2\t1\t1\t1\t100\t400\t80\t30\t91\tCancel\n" +
		"4\t1\t2\t1\t1\t0\t100\t400\t80\t30\t-1\t\n"
	words, err := ParseTSV([]byte(tsv))
	if err != nil || len(words) != 3 {
		t.Fatalf("words %+v %v", words, err)
	}
	loc := Match(words, "submit order", 2)
	if loc.Ratio != 1 || loc.Rect != (abi.Rect{X: 50, Y: 100, Width: 80, Height: 15}) || loc.Point != (abi.Point{X: 90, Y: 107.5}) {
		t.Errorf("match %+v", loc)
	}
	if _, err := ParseTSV([]byte("h\n5\t1\t1\t1\t1\t1\tx\t0\t0\t0\t0\tw\n")); err == nil {
		t.Error("bad number accepted")
	}
}

func BenchmarkOCR1280x800(b *testing.B) {
	s, err := testBrowser.NewSession(b.Context(), browser.SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, canvasPage) }))
	defer srv.Close()
	if _, err := s.Navigate(b.Context(), abi.Navigation{URL: srv.URL}); err != nil {
		b.Fatal(err)
	}
	shot, err := s.Screenshot(b.Context(), abi.ScreenshotRequest{Scale: 1})
	if err != nil {
		b.Fatal(err)
	}
	l := New(s, Options{})
	for b.Loop() {
		if _, err := l.OCR(b.Context(), shot.PNG); err != nil {
			b.Fatal(err)
		}
	}
}
