package host

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Load, Call and the Registry
// matches one of them with errors.Is, wrapped in a *LoadError or *CallError
// that names the plugin.
var (
	// ErrTrap: the guest trapped (unreachable, division by zero, a Go panic,
	// a non-zero exit).
	ErrTrap = errors.New("guest trapped")
	// ErrDeadline: the call's deadline passed while the guest was running.
	ErrDeadline = errors.New("call deadline exceeded")
	// ErrMemoryLimit: the guest tried to grow its memory past the manifest's
	// memory_pages, or declares more than that.
	ErrMemoryLimit = errors.New("memory limit exceeded")
	// ErrMemoryAccess: the guest passed a pointer/length outside its memory
	// to a host function.
	ErrMemoryAccess = errors.New("out-of-bounds guest memory access")
	// ErrHostPanic: a service behind a host function panicked.
	ErrHostPanic = errors.New("host function panicked")
	// ErrHostCallBudget: the guest made more host calls than host_calls.
	ErrHostCallBudget = errors.New("host call budget exhausted")
	// ErrResultTooLarge: the result is longer than max_result_bytes.
	ErrResultTooLarge = errors.New("result too large")
	// ErrBadResult: the result's pointer, length, JSON or outcome is invalid.
	ErrBadResult = errors.New("bad result")
	// ErrMissingExport: a required export is absent.
	ErrMissingExport = errors.New("missing required export")
	// ErrExportSignature: an export has the wrong type.
	ErrExportSignature = errors.New("export has the wrong signature")
	// ErrABIVersion: the module or manifest speaks an ABI this host cannot
	// serve, or the two disagree.
	ErrABIVersion = errors.New("ABI version mismatch")
	// ErrUngrantedImport: the module imports a host function of a capability
	// its manifest does not grant.
	ErrUngrantedImport = errors.New("import of an ungranted capability")
	// ErrUnknownImport: the module imports something this host does not
	// provide (or provides with another signature).
	ErrUnknownImport = errors.New("unknown import")
	// ErrChecksum: the module's sha256 differs from the manifest's.
	ErrChecksum = errors.New("sha256 mismatch")
	// ErrNotWasm: the module file is not a valid WebAssembly module.
	ErrNotWasm = errors.New("not a WebAssembly module")
	// ErrManifest: the manifest is invalid.
	ErrManifest = errors.New("invalid manifest")
	// ErrUnknownStrategy: the request names a strategy the plugin does not
	// declare.
	ErrUnknownStrategy = errors.New("unknown strategy")
	// ErrClosed: the plugin or runtime is closed.
	ErrClosed = errors.New("closed")
)

// LoadError is returned by Runtime.Load: it names the plugin (its id when
// the manifest could be read) and the file at fault.
type LoadError struct {
	Plugin string // plugin id, empty when the manifest was unreadable
	File   string // the manifest or module file at fault
	Err    error
}

func (e *LoadError) Error() string {
	if e.Plugin == "" {
		return fmt.Sprintf("load plugin %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("load plugin %q (%s): %v", e.Plugin, e.File, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// CallError is returned by Plugin.Call for a failed strategy call.
type CallError struct {
	Plugin   string
	Strategy string
	Err      error
	// Stderr holds the last lines the instance wrote to stderr during the
	// call, when any.
	Stderr string
}

func (e *CallError) Error() string {
	msg := fmt.Sprintf("plugin %q strategy %q: %v", e.Plugin, e.Strategy, e.Err)
	if e.Plugin == "" {
		// No plugin was found for the strategy.
		msg = fmt.Sprintf("strategy %q: %v", e.Strategy, e.Err)
	}
	if e.Stderr != "" {
		msg += "\nguest stderr:\n" + e.Stderr
	}
	return msg
}

func (e *CallError) Unwrap() error { return e.Err }

// failureKinds lists the sentinels Stats counts failures by, in order of
// precedence.
var failureKinds = []error{
	ErrDeadline, ErrMemoryLimit, ErrMemoryAccess, ErrHostPanic, ErrHostCallBudget,
	ErrResultTooLarge, ErrBadResult, ErrTrap, ErrUnknownStrategy, ErrClosed,
}

// kindOf names the failure kind of err for Stats.
func kindOf(err error) string {
	for _, k := range failureKinds {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "other"
}
