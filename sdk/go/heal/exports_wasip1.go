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

// live keeps the buffers handed out by heal_alloc reachable, so that the
// garbage collector does not reclaim them before heal_run reads them.
var live = map[uintptr][]byte{}

//go:wasmexport heal_alloc
func healAlloc(n uint32) uint32 {
	buf := make([]byte, max(n, 1))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	live[p] = buf
	return uint32(p)
}

// result keeps the last result alive until the next export is called, as the
// ABI requires.
var result []byte

//go:wasmexport heal_run
func healRun(ptr, n uint32) uint64 {
	buf, ok := live[uintptr(ptr)]
	if !ok || int(n) > len(buf) {
		panic(fmt.Sprintf("heal: heal_run(%#x, %d) does not name a buffer from heal_alloc", ptr, n))
	}
	// The request now belongs to the guest; buffers of abandoned calls go too.
	clear(live)
	result = run(buf[:n])
	return pack(result)
}

//go:wasmexport heal_describe
func healDescribe() uint64 {
	result = describe()
	return pack(result)
}

func pack(b []byte) uint64 {
	return abi.PackPtrLen(uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))), uint32(len(b)))
}
