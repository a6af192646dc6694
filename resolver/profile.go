package resolver

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/selfheal/engine/abi"
)

// The three healing profiles of the design, by attempt level. Level 0 is
// strict; level 1 is the first healing attempt; level 2 and above are the
// desperate attempts.
var profiles = [3]abi.HealingProfile{
	{Level: 0, MinRatio: 0.82, PadMul: 1.0, ExpandRoles: false},
	{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
	{Level: 2, MinRatio: 0.72, PadMul: 1.7, ExpandRoles: true},
}

// Profile returns the healing profile of an attempt level. Negative levels
// are treated as 0; levels above 2 use the level-2 tolerances but keep their
// own Level so that details report the real attempt.
func Profile(level int) abi.HealingProfile {
	if level < 0 {
		level = 0
	}
	p := profiles[min(level, len(profiles)-1)]
	p.Level = level
	return p
}

// ValidateProfile reports why a profile cannot be applied: a ratio outside
// (0, 1], a padding multiplier below 1 or not finite, or a negative level.
func ValidateProfile(p abi.HealingProfile) error {
	switch {
	case p.Level < 0:
		return fmt.Errorf("resolver: healing profile level %d is negative", p.Level)
	case math.IsNaN(p.MinRatio) || p.MinRatio <= 0 || p.MinRatio > 1:
		return fmt.Errorf("resolver: healing profile min_ratio %v is outside (0, 1]", p.MinRatio)
	case math.IsNaN(p.PadMul) || math.IsInf(p.PadMul, 0) || p.PadMul < 1 || p.PadMul > 10:
		return fmt.Errorf("resolver: healing profile pad_mul %v is outside [1, 10]", p.PadMul)
	}
	return nil
}

// effectiveProfile returns p when it is valid and otherwise the strict
// profile with a warning, as the design asks ("fall back to strict matching
// with warning").
func effectiveProfile(p abi.HealingProfile) (abi.HealingProfile, string) {
	if err := ValidateProfile(p); err != nil {
		strict := Profile(0)
		return strict, err.Error() + "; using the strict profile"
	}
	return p, ""
}

// RoleAliases are the semantic role groups of the design: with expand_roles a
// target role matches an element whose role is any member of its group.
var RoleAliases = map[string][]string{
	"input":    {"input", "textfield", "text_field", "form_input", "forminput", "edit", "textbox"},
	"button":   {"button", "submit", "action", "cta"},
	"label":    {"label", "text", "data_display"},
	"checkbox": {"checkbox", "check_box", "toggle"},
}

// TypeAliases are the element type groups of the design.
var TypeAliases = map[string][]string{
	"text_input": {"text_input", "input", "textfield"},
	"button":     {"button"},
}

// ExpandRole returns the roles a target role accepts: the role itself, and
// with expand every member of any alias group that contains it (as a key or a
// member). The result is lower case, sorted and without duplicates.
func ExpandRole(role string, expand bool) []string {
	role = strings.ToLower(strings.TrimSpace(role))
	if role == "" {
		return nil
	}
	set := map[string]bool{role: true}
	if expand {
		for _, groups := range []map[string][]string{RoleAliases, TypeAliases} {
			for key, members := range groups {
				in := key == role
				for _, m := range members {
					in = in || m == role
				}
				if !in {
					continue
				}
				set[key] = true
				for _, m := range members {
					set[m] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// elementRoles lists the role words an element answers to: its accessible
// role, its tag and, for inputs, its type. Matching against all of them lets
// design-level roles such as "input" or "label" find <input> and <label>
// elements whose ARIA role is textbox or none.
func elementRoles(e *abi.Element) [3]string {
	var r [3]string
	r[0] = strings.ToLower(e.Role)
	r[1] = e.Tag
	if e.Tag == "input" {
		r[2] = strings.ToLower(e.Attrs["type"])
		if r[2] == "" {
			r[2] = "text"
		}
	}
	return r
}

// roleMatches reports whether an element answers to any of the roles.
func roleMatches(e *abi.Element, roles []string) bool {
	er := elementRoles(e)
	for _, want := range roles {
		for _, have := range er {
			if have != "" && have == want {
				return true
			}
		}
	}
	return false
}
