// Package vision finds text on the rendered page when the DOM cannot: text
// drawn on a canvas or baked into an image. It takes a screenshot at 2x
// device scale (Tesseract misses short words at 1x), runs the tesseract CLI
// with TSV output (no cgo; OMP_THREAD_LIMIT=1, several times faster on small
// machines), groups words into lines, fuzzy-matches the wanted text against
// every run of consecutive words, and returns the centre of the best match
// in CSS pixels.
package vision

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os/exec"
	"strconv"
	"strings"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/resolver"
)

// Screenshotter takes screenshots; *browser.Session is one.
type Screenshotter interface {
	Screenshot(ctx context.Context, req abi.ScreenshotRequest) (abi.Screenshot, error)
}

// Word is one word Tesseract recognised, in image pixels.
type Word struct {
	Text       string
	Rect       abi.Rect
	Confidence float64
	Line       int // block, paragraph and line packed into one key
}

// Options configure a Locator.
type Options struct {
	Tesseract string  // binary; default "tesseract"
	Scale     float64 // screenshot device scale; default 2
	MinRatio  float64 // threshold when the request has none; default 0.82 (level 0)
	PSM       int     // Tesseract page segmentation mode; default 11 (sparse text)
}

// Locator answers heal_vision.locate_text.
type Locator struct {
	src  Screenshotter
	opts Options
}

// New returns a locator over a screenshot source.
func New(src Screenshotter, opts Options) *Locator {
	if opts.Tesseract == "" {
		opts.Tesseract = "tesseract"
	}
	if opts.Scale <= 0 {
		opts.Scale = 2
	}
	if opts.MinRatio <= 0 {
		opts.MinRatio = resolver.Profile(0).MinRatio
	}
	if opts.PSM == 0 {
		opts.PSM = 11
	}
	return &Locator{src: src, opts: opts}
}

// LocateText finds req.Text on the screen. Not finding it is a result with
// Found false and an error wrapping abi.ErrNotFound that names the best OCR
// text seen.
func (l *Locator) LocateText(ctx context.Context, req abi.LocateTextRequest) (abi.TextLocation, error) {
	if strings.TrimSpace(req.Text) == "" {
		return abi.TextLocation{}, fmt.Errorf("%w: locate_text needs a text", abi.ErrBadRequest)
	}
	if l.src == nil {
		return abi.TextLocation{}, fmt.Errorf("vision: no screenshot source: %w", abi.ErrUnavailable)
	}
	minRatio := req.MinRatio
	if minRatio <= 0 {
		minRatio = l.opts.MinRatio
	}
	shot, err := l.src.Screenshot(ctx, abi.ScreenshotRequest{Scale: l.opts.Scale})
	if err != nil {
		return abi.TextLocation{}, fmt.Errorf("vision: screenshot: %w", err)
	}
	words, err := l.OCR(ctx, shot.PNG)
	if err != nil {
		return abi.TextLocation{}, err
	}
	loc := Match(words, req.Text, l.opts.Scale)
	if loc.Ratio < minRatio {
		loc.Found = false
		seen := loc.Text
		if seen == "" {
			seen = "no text"
		}
		return loc, fmt.Errorf("vision: %w: %q not on screen at ratio %.2f (best %q, %.2f)", abi.ErrNotFound, req.Text, minRatio, seen, loc.Ratio)
	}
	loc.Found = true
	return loc, nil
}

// OCR runs Tesseract on a PNG and returns the words it read.
func (l *Locator) OCR(ctx context.Context, png []byte) ([]Word, error) {
	cmd := exec.CommandContext(ctx, l.opts.Tesseract, "stdin", "stdout", "--psm", strconv.Itoa(l.opts.PSM), "tsv")
	cmd.Stdin = bytes.NewReader(png)
	cmd.Env = append(cmd.Environ(), "OMP_THREAD_LIMIT=1")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vision: tesseract: %w", ctx.Err())
		}
		var ee *exec.Error
		if errors.As(err, &ee) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("vision: %s: %w: %w", l.opts.Tesseract, abi.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("vision: tesseract: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return ParseTSV(out.Bytes())
}

// ParseTSV reads Tesseract's TSV output (level, page, block, paragraph,
// line, word, left, top, width, height, confidence, text) and keeps the
// words with text.
func ParseTSV(tsv []byte) ([]Word, error) {
	var words []Word
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue // header
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 12 || f[0] != "5" {
			continue
		}
		text := strings.TrimSpace(f[11])
		if text == "" {
			continue
		}
		var n [10]float64
		for i := 1; i <= 10; i++ {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("vision: tesseract tsv field %d %q: %w", i, f[i], err)
			}
			n[i-1] = v
		}
		words = append(words, Word{
			Text:       text,
			Rect:       abi.Rect{X: n[5], Y: n[6], Width: n[7], Height: n[8]},
			Confidence: n[9],
			Line:       int(n[1])*1_000_000 + int(n[2])*1_000 + int(n[3]),
		})
	}
	return words, sc.Err()
}

// Match finds the run of consecutive words on one line that best matches
// text (resolver.Ratio) and returns it with coordinates divided by scale.
func Match(words []Word, text string, scale float64) abi.TextLocation {
	if scale <= 0 {
		scale = 1
	}
	want := resolver.Normalize(text)
	nWant := len(strings.Fields(want))
	var best abi.TextLocation
	for i := 0; i < len(words); i++ {
		var parts []string
		r := words[i].Rect
		conf := 0.0
		for j := i; j < len(words) && j < i+nWant+2 && words[j].Line == words[i].Line; j++ {
			parts = append(parts, words[j].Text)
			r = union(r, words[j].Rect)
			conf += words[j].Confidence
			got := strings.Join(parts, " ")
			ratio := resolver.Ratio(want, got)
			if ratio > best.Ratio {
				rr := abi.Rect{X: r.X / scale, Y: r.Y / scale, Width: r.Width / scale, Height: r.Height / scale}
				best = abi.TextLocation{Point: rr.Center(), Rect: rr, Text: got, Ratio: ratio, Confidence: conf / float64(len(parts))}
			}
		}
	}
	return best
}

func union(a, b abi.Rect) abi.Rect {
	x0, y0 := math.Min(a.X, b.X), math.Min(a.Y, b.Y)
	x1, y1 := math.Max(a.X+a.Width, b.X+b.Width), math.Max(a.Y+a.Height, b.Y+b.Height)
	return abi.Rect{X: x0, Y: y0, Width: x1 - x0, Height: y1 - y0}
}
