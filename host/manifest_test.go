package host_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
)

const validManifest = `
id = "wait-tools"
version = "1.2.3-beta.1"
abi = "1.0"
module = "wait.wasm"
sha256 = "ab00000000000000000000000000000000000000000000000000000000000000"
strategies = ["wait_longer", "wait_visible"]
grants = ["log", "time", "browser"]
description = "waiting strategies"

[limits]
memory_pages = 64
call_timeout = "2s"
host_calls = 50
max_result_bytes = 4096
pool_size = 3

[config]
poll_ms = 100

[config.wait_longer]
timeout_ms = 5000
poll_ms = 200
`

func TestParseManifest(t *testing.T) {
	m, err := host.ParseManifest([]byte(validManifest), "/plugins/wait/manifest.toml")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID() != "wait-tools" || m.Version() != "1.2.3-beta.1" || m.ABI() != abi.MakeVersion(1, 0) {
		t.Errorf("identity: %s %s %s", m.ID(), m.Version(), m.ABI())
	}
	if m.ModulePath() != "/plugins/wait/wait.wasm" {
		t.Errorf("ModulePath = %s", m.ModulePath())
	}
	want := host.Limits{MemoryPages: 64, CallTimeout: 2 * time.Second, HostCalls: 50, MaxResultBytes: 4096, PoolSize: 3}
	if m.Limits() != want {
		t.Errorf("Limits = %+v", m.Limits())
	}
	if !m.Granted(abi.CapTime) || !m.Granted(abi.CapHost) || m.Granted(abi.CapNet) {
		t.Errorf("grants: %v", m.Grants())
	}
	var cfg map[string]float64
	if err := json.Unmarshal(m.Config("wait_longer"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg["poll_ms"] != 200 || cfg["timeout_ms"] != 5000 {
		t.Errorf("the strategy table must override the shared keys: %v", cfg)
	}
	if got := string(m.Config("wait_visible")); got != `{"poll_ms":100}` {
		t.Errorf("Config(wait_visible) = %s", got)
	}
	// Accessors return copies.
	m.Strategies()[0] = "changed"
	if m.Strategies()[0] != "wait_longer" {
		t.Error("Strategies exposes the manifest's slice")
	}
}

func TestParseManifestDefaults(t *testing.T) {
	m, err := host.ParseManifest([]byte(`id = "a"
version = "0.1.0"
abi = "1.0"
module = "a.wasm"
sha256 = "`+strings.Repeat("f", 64)+`"
strategies = ["s"]`), "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := host.Limits{MemoryPages: 256, CallTimeout: 10 * time.Second, HostCalls: 1000, MaxResultBytes: 1 << 20, PoolSize: 2}
	if m.Limits() != want {
		t.Errorf("defaults = %+v", m.Limits())
	}
	if string(m.Config("s")) != "{}" {
		t.Errorf("Config = %s", m.Config("s"))
	}
}

func TestParseManifestErrors(t *testing.T) {
	base := func(replace, with string) string { return strings.Replace(validManifest, replace, with, 1) }
	tests := []struct {
		name    string
		data    string
		mention []string
		also    error
	}{
		{"unknown key", base(`description =`, `colour = "blue"`+"\n"+`description =`), []string{"m.toml:9", "colour", "unknown key"}, nil},
		{"unknown limits key", base("pool_size = 3", "pool = 3"), []string{"limits.pool", "unknown key"}, nil},
		{"bad id", base(`"wait-tools"`, `"Wait Tools"`), []string{"m.toml:2", "id"}, nil},
		{"missing sha256", base(`sha256 = "ab00000000000000000000000000000000000000000000000000000000000000"`, ""), []string{"sha256", "required"}, nil},
		{"short sha256", base(`"ab0000`, `"ab00`), []string{"sha256", "64 hexadecimal"}, nil},
		{"bad version", base(`"1.2.3-beta.1"`, `"1.2"`), []string{"version", "semantic"}, nil},
		{"bad duration", base(`"2s"`, `"2 parsecs"`), []string{"m.toml:13", "limits.call_timeout"}, nil},
		{"memory over max", base("memory_pages = 64", "memory_pages = 5000"), []string{"limits.memory_pages", "1..4096"}, nil},
		{"unknown grant", base(`"browser"]`, `"browser", "filesystem"]`), []string{"grants", `"filesystem"`}, nil},
		{"duplicate grant", base(`"browser"]`, `"browser", "log"]`), []string{"grants", "twice"}, nil},
		{"empty strategies", base(`["wait_longer", "wait_visible"]`, `[]`), []string{"strategies", "at least one"}, nil},
		{"duplicate strategy", base(`"wait_visible"]`, `"wait_longer"]`), []string{"strategies", "twice"}, nil},
		{"module outside folder", base(`"wait.wasm"`, `"../wait.wasm"`), []string{"module"}, nil},
		{"future ABI", base(`abi = "1.0"`, `abi = "2.0"`), []string{"abi", "2.0"}, host.ErrABIVersion},
		{"TOML syntax", base(`[limits]`, `[limits`), []string{"m.toml:"}, nil},
		{"wrong type", base(`host_calls = 50`, `host_calls = "many"`), []string{"host_calls"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := host.ParseManifest([]byte(tt.data), "m.toml")
			if !errors.Is(err, host.ErrManifest) {
				t.Fatalf("got %v, want ErrManifest", err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error %v does not match %v", err, tt.also)
			}
			for _, s := range tt.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte("id = \"x\"\n[limits]\ncall_timeout = \"-1s\"\n[config.x]\na = [1, {b = 2}]"))
	f.Add([]byte("[[config]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := host.ParseManifest(data, "fuzz.toml")
		if err != nil {
			if !errors.Is(err, host.ErrManifest) {
				t.Fatalf("error does not match ErrManifest: %v", err)
			}
			return
		}
		// A manifest that parses must satisfy every documented invariant.
		lim := m.Limits()
		if len(m.Strategies()) == 0 || lim.MemoryPages < 1 || lim.MemoryPages > host.MaxMemoryPages ||
			lim.CallTimeout <= 0 || lim.PoolSize < 1 || lim.HostCalls < 1 || lim.MaxResultBytes < 1 {
			t.Fatalf("accepted an invalid manifest: %+v %v", lim, m.Strategies())
		}
		for _, s := range m.Strategies() {
			if !json.Valid(m.Config(s)) {
				t.Fatalf("Config(%s) is not JSON: %s", s, m.Config(s))
			}
		}
	})
}
