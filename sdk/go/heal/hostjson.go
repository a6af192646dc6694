package heal

import (
	"encoding/json"
	"strconv"

	"github.com/selfheal/engine/abi"
)

// Host-call messages without reflection: the inputs strategies send most
// are written by hand, and the responses they read most are decoded by the
// request's one-pass reader, with encoding/json as the fallback and the
// reference (FuzzDecodeResponse, FuzzEncode).

// appendInput appends the JSON of a host function's input to dst. ok is
// false for types it does not know.
func appendInput(dst []byte, in any) (out []byte, ok bool) {
	m := members{b: append(dst, '{')}
	switch v := in.(type) {
	case abi.Locator:
		m.str("css", v.CSS)
		m.str("xpath", v.XPath)
		if v.Point != nil {
			m.key("point")
			if m.b, ok = appendPoint(m.b, *v.Point); !ok {
				return dst, false
			}
		}
		m.str("text", v.Text)
		m.str("key", v.Key)
		if v.Visible {
			m.key("visible")
			m.b = append(m.b, "true"...)
		}
		m.int("timeout_ms", v.TimeoutMS)
	case abi.Query:
		m.str("css", v.CSS)
		m.str("xpath", v.XPath)
		m.int("limit", int64(v.Limit))
	case abi.Navigation:
		m.str("url", v.URL)
		if v.IgnoreCache {
			m.key("ignore_cache")
			m.b = append(m.b, "true"...)
		}
		m.int("timeout_ms", v.TimeoutMS)
	case abi.IdleRequest:
		m.int("idle_ms", v.IdleMS)
		m.int("timeout_ms", v.TimeoutMS)
	case abi.LookupRequest:
		m.key("host")
		m.b = appendString(m.b, v.Host)
	case abi.ResolveRequest:
		m.key("target")
		if m.b, ok = appendTarget(m.b, &v.Target); !ok {
			return dst, false
		}
		m.key("level")
		m.b = strconv.AppendInt(m.b, int64(v.Level), 10)
		m.int("limit", int64(v.Limit))
	default:
		return dst, false
	}
	return append(m.b, '}'), true
}

// int writes an omitempty integer member.
func (m *members) int(k string, v int64) {
	if v != 0 {
		m.key(k)
		m.b = strconv.AppendInt(m.b, v, 10)
	}
}

// decodeResponse decodes a host function's response into out, which points
// to a zero value.
func decodeResponse(resp []byte, out any) error {
	if fastResponse(resp, out) {
		return nil
	}
	resetResponse(out)
	return json.Unmarshal(resp, out)
}

// resetResponse zeroes what a refused fast path may have filled in.
func resetResponse(out any) {
	switch v := out.(type) {
	case *abi.NetworkState:
		*v = abi.NetworkState{}
	case *abi.PageInfo:
		*v = abi.PageInfo{}
	case *abi.ActResult:
		*v = abi.ActResult{}
	case *abi.ExistsResult:
		*v = abi.ExistsResult{}
	case *abi.LookupResult:
		*v = abi.LookupResult{}
	case *abi.QueryResult:
		*v = abi.QueryResult{}
	case *abi.Snapshot:
		*v = abi.Snapshot{}
	case *abi.Resolution:
		*v = abi.Resolution{}
	}
}

var (
	networkStateKeys = []string{"online", "inflight", "idle_ms"}
	pageInfoKeys     = []string{"url", "title", "ready_state"}
	actResultKeys    = []string{"ok", "url", "source", "message"}
	existsKeys       = []string{"count", "visible"}
	lookupKeys       = []string{"host", "addrs", "error"}
	queryResultKeys  = []string{"elements"}
	snapshotKeys     = []string{"url", "title", "viewport", "elements"}
	viewportKeys     = []string{"width", "height", "scroll_x", "scroll_y"}
	resolutionKeys   = []string{"element", "score", "method", "candidates", "details"}
	candidateKeys    = []string{"element", "score", "reasons"}
	resDetailsKeys   = []string{"healing_attempt", "healing_profile", "role_aliases_used", "fuzzy_threshold_used", "spatial_padding_used", "warnings"}
)

// fastResponse decodes the response types strategies read most; false
// means encoding/json must decide.
func fastResponse(in []byte, out any) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, isBail := p.(bail); !isBail {
				panic(p)
			}
			ok = false
		}
	}()
	r := &reader{b: in}
	if r.null() {
		// encoding/json leaves the value alone.
		r.ws()
		return r.i == len(r.b)
	}
	switch v := out.(type) {
	case *abi.NetworkState:
		r.object(networkStateKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "online":
				v.Online = r.boolean()
			case "inflight":
				v.Inflight = int(r.int())
			case "idle_ms":
				v.IdleMS = r.int()
			}
		})
	case *abi.PageInfo:
		r.object(pageInfoKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "url":
				v.URL = r.str()
			case "title":
				v.Title = r.str()
			case "ready_state":
				v.ReadyState = r.str()
			}
		})
	case *abi.ActResult:
		r.object(actResultKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "ok":
				v.OK = r.boolean()
			case "url":
				v.URL = r.str()
			case "source":
				v.Source = r.str()
			case "message":
				v.Message = r.str()
			}
		})
	case *abi.ExistsResult:
		r.object(existsKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "count":
				v.Count = int(r.int())
			case "visible":
				v.Visible = r.boolean()
			}
		})
	case *abi.LookupResult:
		r.object(lookupKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "host":
				v.Host = r.str()
			case "addrs":
				v.Addrs = r.strings()
			case "error":
				v.Error = r.str()
			}
		})
	case *abi.QueryResult:
		r.object(queryResultKeys, func(string) {
			if !r.null() {
				v.Elements = r.elements()
			}
		})
	case *abi.Snapshot:
		r.object(snapshotKeys, func(k string) {
			if r.null() {
				return
			}
			switch k {
			case "url":
				v.URL = r.str()
			case "title":
				v.Title = r.str()
			case "viewport":
				r.object(viewportKeys, func(k string) {
					if r.null() {
						return
					}
					switch k {
					case "width":
						v.Viewport.Width = r.float()
					case "height":
						v.Viewport.Height = r.float()
					case "scroll_x":
						v.Viewport.ScrollX = r.float()
					case "scroll_y":
						v.Viewport.ScrollY = r.float()
					}
				})
			case "elements":
				v.Elements = r.elements()
			}
		})
	case *abi.Resolution:
		r.resolution(v)
	default:
		return false
	}
	r.ws()
	return r.i == len(r.b)
}

// elements reads an array of elements.
func (r *reader) elements() []abi.Element {
	out := []abi.Element{}
	r.expect('[')
	if r.peek() == ']' {
		r.i++
		return out
	}
	for {
		out = append(out, abi.Element{})
		if !r.null() {
			r.element(&out[len(out)-1])
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return out
		default:
			panic(bail{})
		}
	}
}

func (r *reader) resolution(v *abi.Resolution) {
	r.object(resolutionKeys, func(k string) {
		if r.null() {
			return
		}
		switch k {
		case "element":
			v.Element = &abi.Element{}
			r.element(v.Element)
		case "score":
			v.Score = r.float()
		case "method":
			v.Method = r.str()
		case "candidates":
			v.Candidates = r.candidates()
		case "details":
			d := &v.Details
			r.object(resDetailsKeys, func(k string) {
				if r.null() {
					return
				}
				switch k {
				case "healing_attempt":
					d.HealingAttempt = int(r.int())
				case "healing_profile":
					r.healing(&d.HealingProfile)
				case "role_aliases_used":
					d.RoleAliasesUsed = r.strings()
				case "fuzzy_threshold_used":
					d.FuzzyThresholdUsed = r.float()
				case "spatial_padding_used":
					d.SpatialPaddingUsed = r.float()
				case "warnings":
					d.Warnings = r.strings()
				}
			})
		}
	})
}

func (r *reader) candidates() []abi.Candidate {
	out := []abi.Candidate{}
	r.expect('[')
	if r.peek() == ']' {
		r.i++
		return out
	}
	for {
		out = append(out, abi.Candidate{})
		c := &out[len(out)-1]
		if !r.null() {
			r.object(candidateKeys, func(k string) {
				if r.null() {
					return
				}
				switch k {
				case "element":
					r.element(&c.Element)
				case "score":
					c.Score = r.float()
				case "reasons":
					c.Reasons = r.strings()
				}
			})
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return out
		default:
			panic(bail{})
		}
	}
}
