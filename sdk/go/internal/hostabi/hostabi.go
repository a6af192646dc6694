// Package hostabi connects the SDK's native (non-wasm) builds to a fake host.
//
// In a wasip1 build the SDK calls the engine through //go:wasmimport
// functions and this package is unused. In a native build, as under plain
// `go test`, every host function lands here and is forwarded to the Host that
// package healtest installed for the strategy call in progress, byte for byte
// as the real host would see it.
package hostabi

import (
	"sync"
	"sync/atomic"

	"github.com/selfheal/engine/abi"
)

// Host is the raw ABI seen from the guest: JSON functions with an output
// buffer, the pending-response and last-error plumbing, logging and time.
type Host interface {
	JSON(fn abi.HostFunc, in, out []byte) int32
	Take(out []byte) int32
	LastError(out []byte) int32
	Log(level int32, msg []byte)
	NowMS() int64
	RemainingMS() int64
	SleepMS(ms int32) int32
}

var (
	// serial lets one fake strategy call run at a time, as one wasm
	// instance would.
	serial  sync.Mutex
	current atomic.Pointer[Host]
)

// Install makes h the host of the calling strategy call until release is
// called. Calls from several goroutines are serialised.
func Install(h Host) (release func()) {
	serial.Lock()
	current.Store(&h)
	return func() {
		current.Store(nil)
		serial.Unlock()
	}
}

// Current returns the installed host. Calling a host function outside a
// strategy call run by healtest is a programming error and panics.
func Current() Host {
	h := current.Load()
	if h == nil {
		panic("heal: host functions are only available inside a strategy call (in native builds, run strategies with healtest)")
	}
	return *h
}

// Run and Describe are set by package heal at init so that healtest can
// drive the same entry points the wasm exports use.
var (
	Run      func(request []byte) []byte
	Describe func() []byte
)
