//go:build wasip1

package heal

import (
	"fmt"
	"unsafe"

	"github.com/selfheal/engine/abi"
)

// The module's exports (abi/ABI.md section 2). They live here so that a
// plugin's main package only registers strategies.

//go:wasmexport heal_abi_version
func healABIVersion() uint32 { return uint32(abi.Current) }

// request is the buffer heal_alloc handed out last. It is reused by the
// next call that fits in it: allocating a fresh buffer per call costs a Go
// guest more than copying the request's strings out of it.
var (
	request []byte
	handed  bool
)

// maxKeptRequest bounds the request buffer kept between calls.
const maxKeptRequest = 64 << 10

//go:wasmexport heal_alloc
func healAlloc(n uint32) uint32 {
	size := int(max(n, 1))
	if size > cap(request) || cap(request) > maxKeptRequest {
		request = make([]byte, size)
	}
	request = request[:size]
	handed = true
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(request))))
}

// result keeps the last result alive until the next export is called, as the
// ABI requires; its memory is reused by the next call.
var result []byte

// maxKeptResult bounds the result buffer kept between calls.
const maxKeptResult = 256 << 10

//go:wasmexport heal_run
func healRun(ptr, n uint32) uint64 {
	buf := request
	if !handed || uintptr(ptr) != uintptr(unsafe.Pointer(unsafe.SliceData(buf))) || int(n) > len(buf) {
		panic(fmt.Sprintf("heal: heal_run(%#x, %d) does not name the buffer of the last heal_alloc", ptr, n))
	}
	handed = false
	if cap(result) > maxKeptResult {
		result = nil
	}
	// The request buffer is written again by the next call, so the
	// decoded request must not share its memory.
	result = runInto(result[:0], buf[:n], false)
	return pack(result)
}

//go:wasmexport heal_describe
func healDescribe() uint64 {
	// A copy: the next heal_run reuses result's memory.
	result = append(result[:0], describe()...)
	return pack(result)
}

func pack(b []byte) uint64 {
	return abi.PackPtrLen(uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint32(len(b)))
}
