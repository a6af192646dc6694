package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
)

func TestResolveCommand(t *testing.T) {
	const snap = "testdata/resolve/checkout-v2.json"
	tests := []struct {
		name string
		args []string
		code int
		want []string // substrings of stdout (or stderr for errors)
	}{
		{"fingerprint heals", []string{"--snapshot", snap, "--fingerprint", "testdata/resolve/buy-v1.json", "--level", "1"}, exitOK,
			[]string{"chosen: #2 /html[1]/body[1]/main[1]/form[1]/div[1]/button[1]", "by fingerprint", "candidates:", "fuzzy_threshold_used=0.78", "spatial_padding_used=1.30"}},
		{"text target", []string{"--snapshot", snap, "--target", `{"text":"Cancel","role":"button"}`}, exitOK,
			[]string{"chosen: #3", "by text"}},
		{"no match exits 3", []string{"--snapshot", snap, "--target", `{"text":"Delete account"}`}, exitNoMatch,
			[]string{"no match:", `text="Delete account"`}},
		{"role alias at level 1", []string{"--snapshot", snap, "--target", `{"role":"cta","text":"Cancel"}`, "--level", "1"}, exitOK,
			[]string{"chosen: #3", "role_aliases_used"}},
		{"missing snapshot", []string{"--target", `{"text":"x"}`}, exitBadInput, []string{"--snapshot is required"}},
		{"both targets", []string{"--snapshot", snap, "--target", `{}`, "--fingerprint", "x.json"}, exitBadInput, []string{"exactly one"}},
		{"bad target json", []string{"--snapshot", snap, "--target", `{"text":`}, exitBadInput, []string{"--target"}},
		{"unreadable snapshot", []string{"--snapshot", "testdata/resolve/nope.json", "--target", `{"text":"x"}`}, exitBadInput, []string{"nope.json"}},
		{"bad css", []string{"--snapshot", snap, "--target", `{"css":"a:hover"}`}, exitBadInput, []string{"unsupported css selector"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runMain(t.Context(), append([]string{"resolve"}, tt.args...), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errOut.String())
			}
			all := out.String() + errOut.String()
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestResolveCommandJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := runMain(t.Context(), []string{"resolve", "--snapshot", "testdata/resolve/checkout-v2.json",
		"--fingerprint", "testdata/resolve/buy-v1.json", "--level", "2", "--json"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res abi.Resolution
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Element == nil || res.Element.Index != 2 || res.Method != "fingerprint" || len(res.Candidates) < 2 ||
		res.Details.HealingAttempt != 2 || res.Details.FuzzyThresholdUsed != 0.72 {
		t.Errorf("resolution %+v", res)
	}
}
