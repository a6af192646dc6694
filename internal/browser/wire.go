package browser

import (
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/selfheal/engine/abi"
)

// This file reads the compact records page.js's pack writes (the format is
// described there). Reading them token by token, without reflection, and
// sending each repeated string once keep a 2,000-element snapshot's trip
// from the page small: the answer's size, not the work in the page,
// dominated its cost.

// errWire is wrapped by every malformed compact answer.
var errWire = errors.New("malformed compact records")

// snapshotAnswer is page.js's answer to snapshot.
type snapshotAnswer struct{ abi.Snapshot }

// UnmarshalJSONFrom reads {"url", "title", "viewport", "els"}.
func (a *snapshotAnswer) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	n := 0
	return readAnswer(d, func(key string) (bool, error) {
		var err error
		switch key {
		case "url":
			a.URL, err = readString(d)
		case "title":
			a.Title, err = readString(d)
		case "viewport":
			err = jsonv2.UnmarshalDecode(d, &a.Viewport)
		case "n":
			n, err = readCount(d)
		case "els":
			a.Elements, err = readRecords(d, n)
		default:
			return false, nil
		}
		return true, err
	})
}

// queryAnswer is page.js's answer to query: records or an error.
type queryAnswer struct {
	Elements []abi.Element
	Error    string
}

// UnmarshalJSONFrom reads {"els"} or {"error"}.
func (a *queryAnswer) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	n := 0
	return readAnswer(d, func(key string) (bool, error) {
		var err error
		switch key {
		case "error":
			a.Error, err = readString(d)
		case "n":
			n, err = readCount(d)
		case "els":
			a.Elements, err = readRecords(d, n)
		default:
			return false, nil
		}
		return true, err
	})
}

// readAnswer reads an object, handing each key to field, which reads the
// value and reports whether it knew the key; unknown keys are skipped.
func readAnswer(d *jsontext.Decoder, field func(key string) (bool, error)) error {
	if err := expect(d, '{'); err != nil {
		return err
	}
	for d.PeekKind() != '}' {
		key, err := readString(d)
		if err != nil {
			return err
		}
		ok, err := field(key)
		if err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		if !ok {
			if err := d.SkipValue(); err != nil {
				return err
			}
		}
	}
	return expect(d, '}')
}

func expect(d *jsontext.Decoder, kind jsontext.Kind) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != kind {
		return fmt.Errorf("%w: %v where %v belongs", errWire, tok.Kind(), kind)
	}
	return nil
}

func readString(d *jsontext.Decoder) (string, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return "", err
	}
	if tok.Kind() != '"' {
		return "", fmt.Errorf("%w: %v where a string belongs", errWire, tok.Kind())
	}
	return tok.String(), nil
}

// recordReader holds what earlier records of one answer left for later
// ones: the strings sent so far, the frame paths and the last XPath.
type recordReader struct {
	d      *jsontext.Decoder
	strs   []string
	frames [][]string
	xpath  string
}

// maxCount bounds the list capacity a count may ask for up front.
const maxCount = 1 << 20

// readCount reads "n", the number of records that follow.
func readCount(d *jsontext.Decoder) (int, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return 0, err
	}
	if tok.Kind() != '0' {
		return 0, fmt.Errorf("%w: %v where a count belongs", errWire, tok.Kind())
	}
	return int(min(max(tok.Int(), 0), maxCount)), nil
}

// readRecords reads the "els" array; n is the expected count (a hint).
func readRecords(d *jsontext.Decoder, n int) ([]abi.Element, error) {
	if err := expect(d, '['); err != nil {
		return nil, err
	}
	r := recordReader{d: d, frames: [][]string{{}}}
	out := make([]abi.Element, 0, n)
	for d.PeekKind() != ']' {
		out = append(out, abi.Element{Index: len(out)})
		if err := r.record(&out[len(out)-1]); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(out)-1, err)
		}
	}
	return out, expect(d, ']')
}

// str reads a string field: a new string or the number of an earlier one.
func (r *recordReader) str() (string, error) {
	tok, err := r.d.ReadToken()
	if err != nil {
		return "", err
	}
	switch tok.Kind() {
	case '"':
		s := tok.String()
		r.strs = append(r.strs, s)
		return s, nil
	case '0':
		n := tok.Int()
		if n < 0 || n >= int64(len(r.strs)) {
			return "", fmt.Errorf("%w: string number %d of %d", errWire, n, len(r.strs))
		}
		return r.strs[n], nil
	}
	return "", fmt.Errorf("%w: %v where a string field belongs", errWire, tok.Kind())
}

func (r *recordReader) num() (float64, error) {
	tok, err := r.d.ReadToken()
	if err != nil {
		return 0, err
	}
	switch tok.Kind() {
	case '0':
		return tok.Float(), nil
	case 'n': // JSON.stringify writes NaN and the infinities as null
		return 0, nil
	}
	return 0, fmt.Errorf("%w: %v where a number belongs", errWire, tok.Kind())
}

// list reads 0 (nothing) or an array of string fields.
func (r *recordReader) list(dst []string) ([]string, error) {
	tok, err := r.d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '0':
		return dst, nil
	case '[':
	default:
		return nil, fmt.Errorf("%w: %v where a list belongs", errWire, tok.Kind())
	}
	for r.d.PeekKind() != ']' {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		dst = append(dst, s)
	}
	_, err = r.d.ReadToken()
	return dst, err
}

func (r *recordReader) record(e *abi.Element) error {
	d := r.d
	if err := expect(d, '['); err != nil {
		return err
	}
	var err error
	if e.Tag, err = r.str(); err != nil {
		return err
	}
	var kv [16]string
	attrs, err := r.list(kv[:0])
	if err != nil {
		return err
	}
	if len(attrs)%2 != 0 {
		return fmt.Errorf("%w: %d attribute fields", errWire, len(attrs))
	}
	e.Attrs = make(map[string]string, len(attrs)/2)
	for i := 0; i < len(attrs); i += 2 {
		e.Attrs[attrs[i]] = attrs[i+1]
	}
	for _, f := range []*string{&e.Text, &e.VisibleText, &e.Role, &e.Name} {
		if *f, err = r.str(); err != nil {
			return err
		}
	}
	keep, err := r.num()
	if err != nil {
		return err
	}
	rest, err := r.str()
	if err != nil {
		return err
	}
	prefix, ok := stepPrefix(r.xpath, int(keep))
	if !ok || keep != float64(int(keep)) {
		return fmt.Errorf("%w: keep %v steps of %q", errWire, keep, r.xpath)
	}
	switch {
	case rest == "":
		e.XPath = prefix
	default:
		e.XPath = prefix + "/" + rest
	}
	r.xpath = e.XPath
	if e.IDXPath, err = r.str(); err != nil {
		return err
	}
	for _, f := range []*float64{&e.Rect.X, &e.Rect.Y, &e.Rect.Width, &e.Rect.Height} {
		if *f, err = r.num(); err != nil {
			return err
		}
	}
	flags, err := r.num()
	if err != nil {
		return err
	}
	e.Visible, e.Enabled = int(flags)&1 != 0, int(flags)&2 != 0
	var nb [4]string
	nbs, err := r.list(nb[:0])
	if err != nil {
		return err
	}
	switch len(nbs) {
	case 0:
	case 4:
		e.Neighbors = abi.Neighbors{Above: nbs[0], Below: nbs[1], Left: nbs[2], Right: nbs[3]}
	default:
		return fmt.Errorf("%w: %d neighbours", errWire, len(nbs))
	}
	if e.Frame, err = r.frame(); err != nil {
		return err
	}
	return expect(d, ']')
}

// frame reads a frame path. Each element gets its own copy, so that a caller
// changing one element's path leaves the others alone.
func (r *recordReader) frame() ([]string, error) {
	if r.d.PeekKind() == '[' {
		path, err := r.list(nil)
		if err != nil {
			return nil, err
		}
		r.frames = append(r.frames, path)
		return append([]string{}, path...), nil
	}
	n, err := r.num()
	if err != nil {
		return nil, err
	}
	if n < 0 || int(n) >= len(r.frames) || n != float64(int(n)) {
		return nil, fmt.Errorf("%w: frame number %v of %d", errWire, n, len(r.frames))
	}
	return append([]string{}, r.frames[int(n)]...), nil
}

// stepPrefix returns the first n steps of an absolute XPath ("/a[1]/b[2]"
// has two).
func stepPrefix(xpath string, n int) (string, bool) {
	if n == 0 {
		return "", true
	}
	seen := 0
	for i := 0; i < len(xpath); i++ {
		if xpath[i] == '/' {
			if seen == n {
				return xpath[:i], true
			}
			seen++
		}
	}
	return xpath, seen == n && n > 0
}

var (
	_ jsonv2.UnmarshalerFrom = (*snapshotAnswer)(nil)
	_ jsonv2.UnmarshalerFrom = (*queryAnswer)(nil)
)
