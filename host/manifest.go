package host

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/selfheal/engine/abi"
)

// Defaults and hard limits of the [limits] table.
const (
	DefaultMemoryPages    = 256 // 16 MiB
	MaxMemoryPages        = 4096
	DefaultCallTimeout    = 10 * time.Second
	MaxCallTimeout        = 10 * time.Minute
	DefaultHostCalls      = 1000
	MaxHostCalls          = 1_000_000
	DefaultMaxResultBytes = 1 << 20
	MaxMaxResultBytes     = 64 << 20
	DefaultPoolSize       = 2
	MaxPoolSize           = 64
)

// Limits are the runtime limits of one plugin.
type Limits struct {
	MemoryPages    uint32        // maximum linear memory, in 64 KiB pages
	CallTimeout    time.Duration // longest strategy call
	HostCalls      int           // host calls per strategy call (take and last_error excluded)
	MaxResultBytes int           // longest Result JSON
	PoolSize       int           // instances kept per plugin
}

// Manifest is a parsed, validated plugin manifest. It is immutable: the
// accessors return copies.
type Manifest struct {
	path        string
	id          string
	version     string
	abiVersion  abi.Version
	module      string
	sha256      [32]byte
	strategies  []string
	grants      []abi.Capability
	description string
	limits      Limits
	shared      map[string]any            // [config] keys that are not strategy tables
	perStrategy map[string]map[string]any // [config.STRATEGY]
}

// Path is the manifest's file path as given to ParseManifest.
func (m *Manifest) Path() string { return m.path }

// ID is the plugin's id.
func (m *Manifest) ID() string { return m.id }

// Version is the plugin's semantic version.
func (m *Manifest) Version() string { return m.version }

// ABI is the ABI version the plugin is built for.
func (m *Manifest) ABI() abi.Version { return m.abiVersion }

// Module is the module file name, relative to the manifest.
func (m *Manifest) Module() string { return m.module }

// ModulePath is the module's path: Module joined to the manifest's folder.
func (m *Manifest) ModulePath() string { return filepath.Join(filepath.Dir(m.path), m.module) }

// SHA256 is the module's expected checksum.
func (m *Manifest) SHA256() [32]byte { return m.sha256 }

// Strategies lists the strategies the plugin provides, in manifest order.
func (m *Manifest) Strategies() []string { return slices.Clone(m.strategies) }

// HasStrategy reports whether the plugin declares strategy.
func (m *Manifest) HasStrategy(strategy string) bool { return slices.Contains(m.strategies, strategy) }

// Grants lists the granted capabilities (heal_host is implied).
func (m *Manifest) Grants() []abi.Capability { return slices.Clone(m.grants) }

// Granted reports whether the plugin may import from capability c.
func (m *Manifest) Granted(c abi.Capability) bool {
	return c == abi.CapHost || slices.Contains(m.grants, c)
}

// Description is the manifest's free-text description.
func (m *Manifest) Description() string { return m.description }

// Limits returns the plugin's limits with defaults applied.
func (m *Manifest) Limits() Limits { return m.limits }

// Config returns the configuration of strategy as JSON: the shared keys of
// [config] with [config.STRATEGY] merged over them. It is "{}" when there is
// none.
func (m *Manifest) Config(strategy string) json.RawMessage {
	merged := make(map[string]any, len(m.shared)+len(m.perStrategy[strategy]))
	for k, v := range m.shared {
		merged[k] = v
	}
	for k, v := range m.perStrategy[strategy] {
		merged[k] = v
	}
	b, err := json.Marshal(merged)
	if err != nil {
		// TOML values are always representable in JSON except for
		// dates, which marshal as strings; this cannot fail.
		return json.RawMessage("{}")
	}
	return b
}

// manifestFile is the TOML shape of a manifest.
type manifestFile struct {
	ID          string         `toml:"id"`
	Version     string         `toml:"version"`
	ABI         string         `toml:"abi"`
	Module      string         `toml:"module"`
	SHA256      string         `toml:"sha256"`
	Strategies  []string       `toml:"strategies"`
	Grants      []string       `toml:"grants"`
	Description string         `toml:"description"`
	Limits      limitsFile     `toml:"limits"`
	Config      map[string]any `toml:"config"`
}

type limitsFile struct {
	MemoryPages    *int64  `toml:"memory_pages"`
	CallTimeout    *string `toml:"call_timeout"`
	HostCalls      *int64  `toml:"host_calls"`
	MaxResultBytes *int64  `toml:"max_result_bytes"`
	PoolSize       *int64  `toml:"pool_size"`
}

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	strategyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	semverPattern   = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)` +
		`(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

// LoadManifest reads and parses the manifest at path.
func LoadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	return ParseManifest(data, path)
}

// ParseManifest parses and validates a manifest. path names the file in
// errors and anchors the module's relative path. Errors match ErrManifest and
// name the file, the key and, when known, the line.
func ParseManifest(data []byte, path string) (*Manifest, error) {
	var f manifestFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %s:%d: %s", ErrManifest, path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrManifest, path, err)
	}
	bad := func(table, key, format string, args ...any) error {
		name := key
		if table != "" {
			name = table + "." + key
		}
		loc := path
		if line := lineOf(data, table, key); line > 0 {
			loc = fmt.Sprintf("%s:%d", path, line)
		}
		return fmt.Errorf("%w: %s: %s: %s", ErrManifest, loc, name, fmt.Sprintf(format, args...))
	}
	for _, k := range md.Undecoded() {
		if k[0] == "config" {
			continue // free-form: decoded into maps, yet reported as undecoded
		}
		table := strings.Join(k[:len(k)-1], ".")
		return nil, bad(table, k[len(k)-1], "unknown key")
	}

	m := &Manifest{path: path, description: f.Description}
	for _, req := range []struct{ key, val string }{
		{"id", f.ID}, {"version", f.Version}, {"abi", f.ABI}, {"module", f.Module}, {"sha256", f.SHA256},
	} {
		if req.val == "" {
			return nil, bad("", req.key, "required")
		}
	}
	if !idPattern.MatchString(f.ID) {
		return nil, bad("", "id", "%q must be 1-64 of a-z 0-9 . _ - starting with a letter or digit", f.ID)
	}
	m.id = f.ID
	if !semverPattern.MatchString(f.Version) {
		return nil, bad("", "version", "%q is not a semantic version (MAJOR.MINOR.PATCH)", f.Version)
	}
	m.version = f.Version
	v, err := abi.ParseVersion(f.ABI)
	if err != nil {
		return nil, bad("", "abi", "%v", err)
	}
	if !abi.Compatible(abi.Current, v) {
		return nil, fmt.Errorf("%w: %w", bad("", "abi", "plugin ABI %s cannot be served by host ABI %s", v, abi.Current), ErrABIVersion)
	}
	m.abiVersion = v
	if filepath.IsAbs(f.Module) || strings.Contains(f.Module, "\\") || slices.Contains(strings.Split(f.Module, "/"), "..") {
		return nil, bad("", "module", "%q must be a path inside the manifest's folder", f.Module)
	}
	m.module = filepath.FromSlash(f.Module)
	sum, err := hex.DecodeString(f.SHA256)
	if err != nil || len(sum) != 32 {
		return nil, bad("", "sha256", "%q is not 64 hexadecimal digits", f.SHA256)
	}
	copy(m.sha256[:], sum)

	if len(f.Strategies) == 0 {
		return nil, bad("", "strategies", "at least one strategy is required")
	}
	for _, s := range f.Strategies {
		if !strategyPattern.MatchString(s) {
			return nil, bad("", "strategies", "%q must be a-z 0-9 _ starting with a letter", s)
		}
		if slices.Contains(m.strategies, s) {
			return nil, bad("", "strategies", "%q is listed twice", s)
		}
		m.strategies = append(m.strategies, s)
	}
	for _, g := range f.Grants {
		c := abi.Capability(g)
		if !slices.Contains(abi.Capabilities, c) {
			return nil, bad("", "grants", "unknown capability %q (known: %s)", g, capabilityList())
		}
		if slices.Contains(m.grants, c) {
			return nil, bad("", "grants", "%q is listed twice", g)
		}
		m.grants = append(m.grants, c)
	}

	if m.limits, err = parseLimits(f.Limits, bad); err != nil {
		return nil, err
	}

	m.shared = map[string]any{}
	m.perStrategy = map[string]map[string]any{}
	for k, val := range f.Config {
		if tbl, ok := val.(map[string]any); ok && m.HasStrategy(k) {
			m.perStrategy[k] = tbl
			continue
		}
		m.shared[k] = val
	}
	return m, nil
}

func parseLimits(l limitsFile, bad func(table, key, format string, args ...any) error) (Limits, error) {
	out := Limits{
		MemoryPages:    DefaultMemoryPages,
		CallTimeout:    DefaultCallTimeout,
		HostCalls:      DefaultHostCalls,
		MaxResultBytes: DefaultMaxResultBytes,
		PoolSize:       DefaultPoolSize,
	}
	intIn := func(key string, p *int64, lo, hi int64) (int64, error) {
		if *p < lo || *p > hi {
			return 0, bad("limits", key, "%d is outside %d..%d", *p, lo, hi)
		}
		return *p, nil
	}
	if l.MemoryPages != nil {
		n, err := intIn("memory_pages", l.MemoryPages, 1, MaxMemoryPages)
		if err != nil {
			return out, err
		}
		out.MemoryPages = uint32(n)
	}
	if l.CallTimeout != nil {
		d, err := time.ParseDuration(*l.CallTimeout)
		if err != nil {
			return out, bad("limits", "call_timeout", "%q is not a duration such as \"10s\"", *l.CallTimeout)
		}
		if d <= 0 || d > MaxCallTimeout {
			return out, bad("limits", "call_timeout", "%s is outside (0, %s]", d, MaxCallTimeout)
		}
		out.CallTimeout = d
	}
	if l.HostCalls != nil {
		n, err := intIn("host_calls", l.HostCalls, 1, MaxHostCalls)
		if err != nil {
			return out, err
		}
		out.HostCalls = int(n)
	}
	if l.MaxResultBytes != nil {
		n, err := intIn("max_result_bytes", l.MaxResultBytes, 64, MaxMaxResultBytes)
		if err != nil {
			return out, err
		}
		out.MaxResultBytes = int(n)
	}
	if l.PoolSize != nil {
		n, err := intIn("pool_size", l.PoolSize, 1, MaxPoolSize)
		if err != nil {
			return out, err
		}
		out.PoolSize = int(n)
	}
	return out, nil
}

func capabilityList() string {
	var names []string
	for _, c := range abi.Capabilities {
		if c != abi.CapHost {
			names = append(names, string(c))
		}
	}
	return strings.Join(names, ", ")
}

// lineOf finds the line defining key in table ("" for the top level), for
// error messages; 0 when not found. TOML's decoder reports positions only
// for syntax errors.
func lineOf(data []byte, table, key string) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	current, line := "", 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(t, "[") {
			current = strings.Trim(strings.TrimSpace(strings.Trim(t, "[]")), " ")
			continue
		}
		name, _, ok := strings.Cut(t, "=")
		if ok && current == table && strings.Trim(strings.TrimSpace(name), `"'`) == key {
			return line
		}
	}
	return 0
}
