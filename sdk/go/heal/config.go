package heal

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Strategy parameters are flat objects of numbers, strings, booleans, lists
// of strings and small types with their own UnmarshalJSON. fastConfig
// decodes those into a struct with a field table built once per type,
// skipping encoding/json's validation pass and its per-value reflection;
// any other shape, and any input it is not sure to decode exactly as
// encoding/json would, is left to encoding/json (FuzzConfig compares them).

type cfgField struct {
	name  string
	index int
	kind  reflect.Kind
	// unmarshaler: the field's pointer implements json.Unmarshaler.
	unmarshaler bool
}

type cfgType struct {
	fields []cfgField
	ok     bool // every field is of a supported kind
}

var cfgTypes sync.Map // reflect.Type -> *cfgType

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	stringSliceType = reflect.TypeFor[[]string]()
)

func configType(t reflect.Type) *cfgType {
	if ct, ok := cfgTypes.Load(t); ok {
		return ct.(*cfgType)
	}
	ct := &cfgType{ok: true}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			if f.Anonymous {
				ct.ok = false
			}
			continue
		}
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous || !hasTag || name == "" || opts != "" && opts != "omitempty" || !simpleKey(name) {
			// Embedded structs, untagged fields (matched by their Go
			// name), ",string" and unusual names: encoding/json.
			ct.ok = false
			break
		}
		cf := cfgField{name: name, index: i, kind: f.Type.Kind()}
		switch {
		case reflect.PointerTo(f.Type).Implements(unmarshalerType):
			cf.unmarshaler = true
		case f.Type.Implements(unmarshalerType):
			ct.ok = false
		case f.Type == stringSliceType:
		default:
			switch cf.kind {
			case reflect.Bool, reflect.String, reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
			default:
				ct.ok = false
			}
		}
		ct.fields = append(ct.fields, cf)
	}
	cfgTypes.Store(t, ct)
	return ct
}

// simpleKey reports whether a tag name is plain lower-case ASCII, so that
// exact and case-insensitive matching are easy to tell apart.
func simpleKey(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// decodeConfig decodes the object raw into the struct v points to.
func decodeConfig(raw []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		ct := configType(rv.Elem().Type())
		if ct.ok {
			before := reflect.New(rv.Elem().Type()).Elem()
			before.Set(rv.Elem())
			if fastConfig(raw, rv.Elem(), ct) {
				return nil
			}
			rv.Elem().Set(before)
		}
	}
	return json.Unmarshal(raw, v)
}

func fastConfig(raw []byte, sv reflect.Value, ct *cfgType) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, isBail := p.(bail); !isBail {
				panic(p)
			}
			ok = false
		}
	}()
	r := &reader{b: raw}
	r.expect('{')
	if r.peek() == '}' {
		r.i++
		r.ws()
		return r.i == len(r.b)
	}
	for {
		key := r.key()
		r.expect(':')
		f := ct.field(key)
		if f == nil {
			r.skip()
		} else {
			r.setField(sv.Field(f.index), f)
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.ws()
			return r.i == len(r.b)
		default:
			panic(bail{})
		}
	}
}

// field returns the field key names; a key that only matches a field
// case-insensitively leaves the fast path.
func (ct *cfgType) field(key string) *cfgField {
	for i := range ct.fields {
		if ct.fields[i].name == key {
			return &ct.fields[i]
		}
	}
	for i := range ct.fields {
		if strings.EqualFold(ct.fields[i].name, key) {
			panic(bail{})
		}
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			panic(bail{}) // Unicode case folding, e.g. the Kelvin sign
		}
	}
	return nil
}

func (r *reader) setField(fv reflect.Value, f *cfgField) {
	if f.unmarshaler {
		r.ws()
		start := r.i
		r.skip()
		if err := fv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(r.b[start:r.i:r.i]); err != nil {
			panic(bail{}) // encoding/json reports it
		}
		return
	}
	if r.null() {
		if f.kind == reflect.Slice {
			fv.SetZero()
		}
		return
	}
	switch f.kind {
	case reflect.Bool:
		fv.SetBool(r.boolean())
	case reflect.String:
		fv.SetString(r.str())
	case reflect.Int, reflect.Int64, reflect.Int32:
		n := r.int()
		if fv.OverflowInt(n) {
			panic(bail{})
		}
		fv.SetInt(n)
	case reflect.Float64:
		fv.SetFloat(r.float())
	case reflect.Slice:
		fv.Set(reflect.ValueOf(r.strings()))
	default:
		panic(bail{})
	}
}
