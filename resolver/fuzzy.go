package resolver

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize lower-cases s, trims it and collapses every run of white space
// into one space. Fuzzy comparisons work on normalised text.
func Normalize(s string) string {
	if isNormal(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Ratio is the fuzzy similarity of two texts in [0, 1]: one minus the edit
// distance of their normalised forms (in runes; insertions, deletions,
// substitutions and transpositions of neighbours each cost 1, the optimal
// string alignment distance) divided by the longer length. Two empty texts
// are equal (1); one empty text is 0. "Submit" and "submit " score 1,
// "Submit" and "Sbumit" 0.83, "Submit" and "Submit order" 0.5.
func Ratio(a, b string) float64 { return ratioNorm(Normalize(a), Normalize(b)) }

// ratioNorm is Ratio over already normalised texts.
func ratioNorm(a, b string) float64 {
	if a == b {
		return 1
	}
	if a == "" || b == "" {
		return 0
	}
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	longer := max(la, lb)
	return 1 - float64(levenshtein(a, b, la, lb))/float64(longer)
}

// levenshtein is the optimal string alignment distance in runes, with its
// rows on the stack for short strings so that the common case does not
// allocate.
func levenshtein(a, b string, la, lb int) int {
	var bufA, bufB [64]rune
	ra, rb := bufA[:0], bufB[:0]
	for _, r := range a {
		ra = append(ra, r)
	}
	for _, r := range b {
		rb = append(rb, r)
	}
	if la < lb {
		ra, rb, la, lb = rb, ra, lb, la
	}
	var rowBuf [3][65]int
	var prev2, prev, cur []int
	if lb < 64 {
		prev2, prev, cur = rowBuf[0][:lb+1], rowBuf[1][:lb+1], rowBuf[2][:lb+1]
	} else {
		prev2, prev, cur = make([]int, lb+1), make([]int, lb+1), make([]int, lb+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		ca := ra[i-1]
		for j := 1; j <= lb; j++ {
			cost := 1
			if ca == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ca == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// TextSimilarity compares a remembered text with a current one for healing:
// the larger of Ratio and a token containment score, so that "Submit" still
// resembles "Submit order" (all of the old words remain) while unrelated
// texts stay low. Containment counts only when every token of the shorter
// text occurs in the longer one and is discounted by the share of new words.
func TextSimilarity(a, b string) float64 { return textSimNorm(Normalize(a), Normalize(b)) }

func textSimNorm(a, b string) float64 {
	r := ratioNorm(a, b)
	if r == 1 || a == "" || b == "" {
		return r
	}
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	ns, ok := wordsContained(short, long)
	if !ok {
		return r
	}
	// All words kept: 0.7 for a complete rewrite of the surroundings up to 1
	// for no new words.
	c := 0.7 + 0.3*float64(ns)/float64(strings.Count(long, " ")+1)
	return max(r, c)
}

// isNormal reports whether s is already normalised ASCII, so that Normalize
// can return it without allocating (the common case for short labels).
func isNormal(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, c >= 'A' && c <= 'Z', c == '\t', c == '\n', c == '\r', c == '\f', c == '\v':
			return false
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return !prevSpace || s == ""
}

// ratioBound is a cheap upper bound of ratioNorm from byte lengths, exact
// for ASCII: the distance is at least the difference of lengths.
func ratioBound(a, b string) float64 {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		if la == lb {
			return 1
		}
		return 0
	}
	return float64(min(la, lb)) / float64(max(la, lb))
}

// wordsContained reports whether every word of short (normalised, single
// spaces) is a word of long, and how many words short has, without
// allocating.
func wordsContained(short, long string) (int, bool) {
	n := 0
	for short != "" {
		w := short
		if i := strings.IndexByte(short, ' '); i >= 0 {
			w, short = short[:i], short[i+1:]
		} else {
			short = ""
		}
		n++
		found := false
		for rest := long; rest != ""; {
			v := rest
			if i := strings.IndexByte(rest, ' '); i >= 0 {
				v, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			if v == w {
				found = true
				break
			}
		}
		if !found {
			return n, false
		}
	}
	return n, true
}
