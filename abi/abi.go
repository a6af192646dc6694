// Package abi is the contract between the engine and every recovery-strategy
// plugin: the ABI version, the names of the exports a plugin provides and of
// the host functions it may import, the status codes those functions return,
// and the JSON messages that cross the boundary.
//
// The package depends on the standard library only, so that the host, the Go
// guest SDK and third-party tools can all share it. ABI.md beside this file is
// the normative description; a plugin can be written from that document alone.
package abi

import "fmt"

// The ABI version this package describes. A plugin built for major version M
// and minor version m loads on a host of major M and minor >= m. Minor
// versions only add optional host functions; a module that imports a function
// the host does not know is refused at load.
const (
	VersionMajor = 1
	VersionMinor = 0
)

// Version is an ABI version as a plugin reports it from ExportABIVersion:
// major in the high 16 bits, minor in the low 16 bits.
type Version uint32

// MakeVersion packs a major and minor version.
func MakeVersion(major, minor uint16) Version { return Version(uint32(major)<<16 | uint32(minor)) }

// Current is the version implemented by this package.
var Current = MakeVersion(VersionMajor, VersionMinor)

// Major returns the major version.
func (v Version) Major() uint16 { return uint16(v >> 16) }

// Minor returns the minor version.
func (v Version) Minor() uint16 { return uint16(v) }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major(), v.Minor()) }

// ParseVersion reads "MAJOR.MINOR" as written in a plugin manifest.
func ParseVersion(s string) (Version, error) {
	var major, minor uint16
	var rest string
	n, err := fmt.Sscanf(s, "%d.%d%s", &major, &minor, &rest)
	if n != 2 || (err != nil && rest == "" && n < 2) || rest != "" {
		return 0, fmt.Errorf("abi: version %q is not of the form MAJOR.MINOR", s)
	}
	return MakeVersion(major, minor), nil
}

// Compatible reports whether a plugin speaking version plugin can be served by
// a host implementing version host.
func Compatible(host, plugin Version) bool {
	return host.Major() == plugin.Major() && plugin.Minor() <= host.Minor()
}

// Names of the functions and memory a plugin module exports.
const (
	// ExportMemory is the guest's linear memory. Required.
	ExportMemory = "memory"
	// ExportABIVersion is the marker that makes a module a strategy plugin:
	// () -> i32, returning a packed Version. Required.
	ExportABIVersion = "heal_abi_version"
	// ExportAlloc reserves size bytes of guest memory for the host to write
	// into: (size i32) -> i32 pointer. 0 means out of memory. Required.
	ExportAlloc = "heal_alloc"
	// ExportRun runs one strategy: (ptr i32, len i32) -> i64. The input is a
	// JSON Request the host wrote into memory obtained from ExportAlloc; the
	// result is a packed pointer and length (PackPtrLen) of a JSON Result in
	// guest memory. Required.
	ExportRun = "heal_run"
	// ExportDescribe optionally returns a packed pointer and length of a JSON
	// Description: () -> i64. When present the host checks it against the
	// manifest at load.
	ExportDescribe = "heal_describe"
	// ExportInitialize is the WASI reactor initialiser, run once per instance
	// before any other export when present.
	ExportInitialize = "_initialize"
)

// PackPtrLen packs a guest pointer and length into the i64 returned by
// ExportRun and ExportDescribe: pointer in the high 32 bits.
func PackPtrLen(ptr, length uint32) uint64 { return uint64(ptr)<<32 | uint64(length) }

// UnpackPtrLen is the inverse of PackPtrLen.
func UnpackPtrLen(v uint64) (ptr, length uint32) { return uint32(v >> 32), uint32(v) }

// Capability names a group of host functions. Each capability is one import
// module, named ModulePrefix + capability; a plugin may import from a module
// only when its manifest grants the capability. CapHost is always granted.
type Capability string

// ModulePrefix starts the name of every host import module.
const ModulePrefix = "heal_"

// The capabilities of ABI 1.0.
const (
	CapHost       Capability = "host"        // response plumbing; always granted
	CapLog        Capability = "log"         // structured logging into the plugin's logger
	CapTime       Capability = "time"        // clock and deadline-aware sleep
	CapBrowser    Capability = "browser"     // read the page: query, snapshot, URL, network, screenshot
	CapBrowserAct Capability = "browser_act" // act on the page: click, type, navigate, reload, ...
	CapResolver   Capability = "resolver"    // resolve targets at a healing level
	CapVision     Capability = "vision"      // OCR text location on a screenshot
	CapNet        Capability = "net"         // DNS lookups
)

// Module returns the import module name of a capability.
func (c Capability) Module() string { return ModulePrefix + string(c) }

// Capabilities lists every capability of this ABI version.
var Capabilities = []Capability{CapHost, CapLog, CapTime, CapBrowser, CapBrowserAct, CapResolver, CapVision, CapNet}

// CapabilityOfModule maps an import module name back to its capability.
func CapabilityOfModule(module string) (Capability, bool) {
	for _, c := range Capabilities {
		if c.Module() == module {
			return c, true
		}
	}
	return "", false
}
