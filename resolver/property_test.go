package resolver

import (
	"sort"
	"testing"

	"github.com/selfheal/engine/abi"
	"pgregory.net/rapid"
)

// candidateSet resolves without choosing and returns the indexes accepted.
func candidateSet(s abi.Snapshot, t abi.Target, level int) map[int]bool {
	res, _ := Default.Candidates(&s, t, Profile(level), 1000)
	set := map[int]bool{}
	for _, c := range res.Candidates {
		set[c.Element.Index] = true
	}
	return set
}

var words = rapid.StringMatching(`[a-e]{1,6}( [a-e]{1,6}){0,2}`)

// Property 1: healing attempt progression. Every tolerance relaxes (or
// stays) as the level rises, and whatever a lower level accepts, a higher
// level accepts too.
func TestPropertyHealingProgression(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l1 := rapid.IntRange(0, 5).Draw(t, "l1")
		l2 := rapid.IntRange(l1, 6).Draw(t, "l2")
		p1, p2 := Profile(l1), Profile(l2)
		if p2.MinRatio > p1.MinRatio || p2.PadMul < p1.PadMul || (p1.ExpandRoles && !p2.ExpandRoles) {
			t.Fatalf("level %d %+v is stricter than level %d %+v", l2, p2, l1, p1)
		}
		texts := rapid.SliceOfN(words, 1, 6).Draw(t, "texts")
		var els []abi.Element
		for i, tx := range texts {
			els = append(els, el("button", "/html[1]/body[1]/button["+string(rune('1'+i))+"]", 10, float64(40*i), 80, 30, nil, tx))
		}
		s := snap(els...)
		target := abi.Target{Text: words.Draw(t, "target")}
		lo, hi := candidateSet(s, target, l1), candidateSet(s, target, l2)
		for i := range lo {
			if !hi[i] {
				t.Fatalf("level %d accepts #%d (%q for %q) but level %d does not", l1, i, texts[i], target.Text, l2)
			}
		}
	})
}

// Property 3: role alias expansion. With expand_roles an element whose role
// is any alias of the target role is accepted; without it only the exact
// role is.
func TestPropertyRoleAliasExpansion(t *testing.T) {
	keys := make([]string, 0, len(RoleAliases))
	for k := range RoleAliases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rapid.Check(t, func(t *rapid.T) {
		group := RoleAliases[rapid.SampledFrom(keys).Draw(t, "group")]
		want := rapid.SampledFrom(group).Draw(t, "target role")
		have := rapid.SampledFrom(group).Draw(t, "element role")
		level := rapid.IntRange(0, 4).Draw(t, "level")
		e := el("div", "/html[1]/body[1]/div[1]", 10, 10, 80, 30, nil, "x")
		e.Role = have
		got := candidateSet(snap(e), abi.Target{Role: want}, level)[0]
		expect := have == want || Profile(level).ExpandRoles
		if got != expect {
			t.Fatalf("level %d: target role %q, element role %q: accepted=%v want %v", level, want, have, got, expect)
		}
		res, _ := Resolve(snap(e), abi.Target{Role: want}, level)
		if Profile(level).ExpandRoles && len(res.Details.RoleAliasesUsed) == 0 && len(group) > 1 {
			t.Fatalf("role_aliases_used is empty at level %d", level)
		}
	})
}

// Property 4: fuzzy threshold relaxation. The threshold falls with the level
// and a text is accepted exactly when its ratio reaches the level's
// threshold.
func TestPropertyFuzzyThresholdRelaxation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		level := rapid.IntRange(0, 5).Draw(t, "level")
		if Profile(level+1).MinRatio > Profile(level).MinRatio {
			t.Fatalf("threshold rises from level %d to %d", level, level+1)
		}
		a, b := words.Draw(t, "target"), words.Draw(t, "element")
		s := snap(el("button", "/html[1]/body[1]/button[1]", 10, 10, 80, 30, nil, b))
		got := candidateSet(s, abi.Target{Text: a}, level)[0]
		if want := Ratio(a, b) >= Profile(level).MinRatio; got != want {
			t.Fatalf("ratio(%q, %q) = %.3f at threshold %.2f: accepted=%v", a, b, Ratio(a, b), Profile(level).MinRatio, got)
		}
		res, _ := Resolve(s, abi.Target{Text: a}, level)
		if res.Details.FuzzyThresholdUsed != Profile(level).MinRatio {
			t.Fatalf("fuzzy_threshold_used = %v", res.Details.FuzzyThresholdUsed)
		}
	})
}

// Property 5: spatial padding expansion. The region of interest grows by
// BasePadding*pad_mul on each side, so a higher level's region contains the
// lower level's, also after clamping to the viewport.
func TestPropertySpatialPaddingExpansion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l1 := rapid.IntRange(0, 4).Draw(t, "l1")
		l2 := rapid.IntRange(l1, 5).Draw(t, "l2")
		a := abi.Rect{
			X: rapid.Float64Range(0, 1200).Draw(t, "x"), Y: rapid.Float64Range(0, 780).Draw(t, "y"),
			Width: rapid.Float64Range(1, 300).Draw(t, "w"), Height: rapid.Float64Range(1, 80).Draw(t, "h"),
		}
		p1, p2 := Profile(l1), Profile(l2)
		free, _ := ROI(a, p1.PadMul, abi.Viewport{})
		if d := free.Width - a.Width - 2*BasePadding*p1.PadMul; d > 1e-6 || d < -1e-6 {
			t.Fatalf("unclamped ROI width %v is not anchor %v + 2*%v*%v", free.Width, a.Width, BasePadding, p1.PadMul)
		}
		vp := abi.Viewport{Width: 1280, Height: 800}
		r1, _ := ROI(a, p1.PadMul, vp)
		r2, _ := ROI(a, p2.PadMul, vp)
		if r2.X > r1.X || r2.Y > r1.Y || r2.X+r2.Width < r1.X+r1.Width || r2.Y+r2.Height < r1.Y+r1.Height {
			t.Fatalf("ROI at level %d %+v does not contain level %d's %+v", l2, r2, l1, r1)
		}
		if r2.X < 0 || r2.Y < 0 || r2.X+r2.Width > vp.Width || r2.Y+r2.Height > vp.Height {
			t.Fatalf("ROI %+v leaves the viewport", r2)
		}
		res, _ := Resolve(snap(el("p", "/html[1]/body[1]/p[1]", a.X, a.Y, a.Width, a.Height, nil, "anchor")), abi.Target{Near: "anchor"}, l2)
		if res.Details.SpatialPaddingUsed != p2.PadMul {
			t.Fatalf("spatial_padding_used = %v, want %v", res.Details.SpatialPaddingUsed, p2.PadMul)
		}
	})
}
