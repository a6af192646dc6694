package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// manifest is the part of manifest.toml the tests check.
type manifest struct {
	ID         string                    `toml:"id"`
	Version    string                    `toml:"version"`
	ABI        string                    `toml:"abi"`
	Strategies []string                  `toml:"strategies"`
	Grants     []string                  `toml:"grants"`
	Limits     map[string]any            `toml:"limits"`
	Config     map[string]map[string]any `toml:"config"`
}

func readManifest(t testing.TB) manifest {
	t.Helper()
	var m manifest
	if _, err := toml.DecodeFile("manifest.toml", &m); err != nil {
		t.Fatalf("manifest.toml: %v", err)
	}
	return m
}

// defaults returns a fresh copy of every strategy's default parameters.
func defaults() map[string]validator {
	return map[string]validator{
		"wait_longer":                  ptr(defaultWaitLonger()),
		"scroll_into_view":             ptr(defaultScroll()),
		"use_vision_fallback":          ptr(defaultVision()),
		"retry_with_longer_timeout":    ptr(defaultLongerTimeout()),
		"check_network_idle":           ptr(defaultNetworkIdle()),
		"reload_page":                  ptr(defaultReload()),
		"wait_for_manual_intervention": ptr(defaultManual()),
		"use_different_approach":       ptr(defaultApproach()),
		"retry_navigation":             ptr(defaultNav()),
		"check_dns":                    &dnsConfig{},
		"use_cached_version":           ptr(defaultCached()),
		"wait_and_retry":               ptr(defaultWaitRetry()),
		"use_alternative_selector":     ptr(defaultAltSelector()),
		"refresh_dom_state":            ptr(defaultRefresh()),
		"wait_for_reconnection":        ptr(defaultReconnect()),
		"retry_request":                ptr(defaultRetryRequest()),
		"dismiss_overlay":              ptr(defaultOverlay()),
	}
}

// ptr returns a pointer to a copy of v as a validator.
func ptr[T any, P interface {
	*T
	validator
}](v T) validator {
	return P(&v)
}

func TestManifestListsEveryStrategy(t *testing.T) {
	m := readManifest(t)
	if m.ID != "selfheal.builtin" || m.Version != "1.0.0" || m.ABI != abi.Current.String() {
		t.Fatalf("manifest id %q version %q abi %q", m.ID, m.Version, m.ABI)
	}
	var names []string
	for _, b := range builtins {
		names = append(names, b.name)
	}
	if !slices.Equal(m.Strategies, names) {
		t.Fatalf("manifest strategies %v\nregistered         %v", m.Strategies, names)
	}
	sorted := slices.Sorted(slices.Values(names))
	if got := heal.Strategies(); !slices.Equal(got, sorted) {
		t.Fatalf("heal.Strategies() = %v, want %v", got, sorted)
	}
	d := defaults()
	for _, n := range names {
		if d[n] == nil {
			t.Errorf("strategy %s has no entry in the test's defaults table", n)
		}
	}
}

// The manifest's [config.STRATEGY] tables document the defaults: every key
// must be a parameter of the strategy and hold the value the code uses, and
// every default must pass validation.
func TestManifestConfigMatchesDefaults(t *testing.T) {
	m := readManifest(t)
	for name, cfg := range defaults() {
		if err := cfg.validate(); err != nil {
			t.Errorf("%s: the defaults do not validate: %v", name, err)
		}
		table, ok := m.Config[name]
		if !ok {
			continue
		}
		raw, err := json.Marshal(table)
		if err != nil {
			t.Fatal(err)
		}
		got := defaults()[name]
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(got); err != nil {
			t.Errorf("[config.%s]: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, cfg) {
			t.Errorf("[config.%s] differs from the code's defaults:\nmanifest %+v\ncode     %+v", name, got, cfg)
		}
	}
	for name := range m.Config {
		if !slices.Contains(m.Strategies, name) {
			t.Errorf("[config.%s] names no strategy of the manifest", name)
		}
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		in   string
		want Millis
		err  bool
	}{
		{`5000`, 5000, false}, {`5000.0`, 5000, false}, {`"5s"`, 5000, false}, {`"250ms"`, 250, false},
		{`"soon"`, 0, true}, {`true`, 0, true}, {`"5"`, 0, true},
	}
	for _, tt := range tests {
		var m Millis
		err := json.Unmarshal([]byte(tt.in), &m)
		if (err != nil) != tt.err || m != tt.want {
			t.Errorf("Millis(%s) = %d, %v; want %d, error %v", tt.in, m, err, tt.want, tt.err)
		}
	}
}
