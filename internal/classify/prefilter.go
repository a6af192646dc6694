package classify

import (
	"math/bits"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// prefilter finds which patterns can possibly match a message. For each
// pattern it derives a set of literals one of which every match must
// contain (ASCII, lower-cased); an Aho-Corasick automaton finds them all in
// one pass over the message. Patterns without such a set are always
// candidates.
type prefilter struct {
	words  int      // bitset length in uint64 words
	always []uint64 // patterns that are always candidates

	// The automaton over byte classes: delta[state*nclass+class].
	class  [256]uint8
	nclass int
	delta  []int32
	out    [][]int32 // patterns whose literal ends at a state (own outputs)
	link   []int32   // nearest suffix state with outputs, -1 if none
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }

func newPrefilter(patterns []*Pattern) *prefilter {
	f := &prefilter{words: (len(patterns) + 63) / 64}
	f.always = make([]uint64, f.words)
	lits := make([][]string, len(patterns))
	for i, p := range patterns {
		if p.re == nil {
			continue // matched by signals only
		}
		set := requiredLiterals(p)
		if set == nil {
			f.always[i/64] |= 1 << (i % 64)
			continue
		}
		lits[i] = set
	}
	f.build(lits)
	return f
}

// requiredLiterals returns literals one of which any match of p contains, or
// nil when none can be derived.
func requiredLiterals(p *Pattern) []string {
	var set []string
	for _, src := range []string{p.signature, p.extra} {
		if src == "" {
			continue
		}
		re, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			return nil
		}
		s := literals(re.Simplify())
		if s == nil {
			return nil
		}
		set = append(set, s...)
	}
	return set
}

// literals implements requiredLiterals over a syntax tree.
func literals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		s := strings.ToLower(string(re.Rune))
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return nil // case folding beyond ASCII is not byte-exact
			}
		}
		if s == "" {
			return nil
		}
		return []string{s}
	case syntax.OpCapture, syntax.OpPlus:
		return literals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any child's set will do; take the one whose shortest literal is
		// longest, as it filters best.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			s := literals(sub)
			if s == nil {
				continue
			}
			if m := minLen(s); m > bestLen {
				best, bestLen = s, m
			}
		}
		return best
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := literals(sub)
			if s == nil {
				return nil
			}
			out = append(out, s...)
		}
		return out
	}
	return nil
}

func minLen(s []string) int {
	m := len(s[0])
	for _, x := range s[1:] {
		m = min(m, len(x))
	}
	return m
}

func (f *prefilter) build(lits [][]string) {
	// Byte classes: every byte used by a literal gets its own class; all
	// other bytes share class 0. Upper-case letters map to the lower-case
	// class so the scan folds case for free.
	for _, set := range lits {
		for _, l := range set {
			for i := 0; i < len(l); i++ {
				if f.class[l[i]] == 0 {
					f.nclass++
					f.class[l[i]] = uint8(min(f.nclass, 255))
				}
			}
		}
	}
	f.nclass++
	for b := 'A'; b <= 'Z'; b++ {
		f.class[b] = f.class[b+'a'-'A']
	}
	// Trie.
	f.delta = make([]int32, f.nclass)
	for i := range f.delta {
		f.delta[i] = -1
	}
	f.out = [][]int32{nil}
	for pi, set := range lits {
		for _, l := range set {
			s := int32(0)
			for i := 0; i < len(l); i++ {
				c := int32(f.class[l[i]])
				next := f.delta[s*int32(f.nclass)+c]
				if next < 0 {
					next = int32(len(f.out))
					f.out = append(f.out, nil)
					for range f.nclass {
						f.delta = append(f.delta, -1)
					}
					f.delta[s*int32(f.nclass)+c] = next
				}
				s = next
			}
			f.out[s] = append(f.out[s], int32(pi))
		}
	}
	// Breadth-first: failure links turn the trie into a full automaton.
	n := len(f.out)
	fail := make([]int32, n)
	f.link = make([]int32, n)
	f.link[0] = -1
	queue := make([]int32, 0, n)
	for c := 0; c < f.nclass; c++ {
		if t := f.delta[c]; t < 0 {
			f.delta[c] = 0
		} else {
			fail[t] = 0
			f.link[t] = -1
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := int32(0); c < int32(f.nclass); c++ {
			i := s*int32(f.nclass) + c
			t := f.delta[i]
			if t < 0 {
				f.delta[i] = f.delta[fail[s]*int32(f.nclass)+c]
				continue
			}
			fs := f.delta[fail[s]*int32(f.nclass)+c]
			fail[t] = fs
			if len(f.out[fs]) > 0 {
				f.link[t] = fs
			} else {
				f.link[t] = f.link[fs]
			}
			queue = append(queue, t)
		}
	}
}

// candidates returns the bitset of patterns that may match msg, reusing buf.
func (f *prefilter) candidates(msg string, buf []uint64) []uint64 {
	if cap(buf) < f.words {
		buf = make([]uint64, f.words)
	}
	buf = buf[:f.words]
	copy(buf, f.always)
	nc := int32(f.nclass)
	s := int32(0)
	for i := 0; i < len(msg); i++ {
		s = f.delta[s*nc+int32(f.class[msg[i]])]
		for o := s; o >= 0; o = f.link[o] {
			for _, p := range f.out[o] {
				buf[p/64] |= 1 << (p % 64)
			}
			if o == 0 {
				break
			}
		}
	}
	return buf
}
