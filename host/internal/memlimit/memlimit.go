// Package memlimit enforces a per-instance linear-memory limit through
// wazero's experimental memory allocator, and remembers whether the guest
// was refused growth so that the host can report memory exhaustion rather
// than a generic trap.
package memlimit

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

const pageSize = 65536

// Allocator creates the linear memory of one instance.
type Allocator struct {
	limit   uint64 // bytes
	refused atomic.Bool
}

// New returns an allocator that refuses growth beyond pages 64 KiB pages.
func New(pages uint32) *Allocator { return &Allocator{limit: uint64(pages) * pageSize} }

// Refused reports whether a growth request was refused since the last Reset.
func (a *Allocator) Refused() bool { return a.refused.Load() }

// Reset forgets earlier refusals (called at the start of each call).
func (a *Allocator) Reset() { a.refused.Store(false) }

// Allocate implements experimental.MemoryAllocator.
func (a *Allocator) Allocate(capacity, _ uint64) experimental.LinearMemory {
	capacity = min(capacity, a.limit)
	return &memory{owner: a, buf: make([]byte, 0, capacity)}
}

type memory struct {
	owner *Allocator
	buf   []byte
	init  bool
}

// Reallocate implements experimental.LinearMemory. The first call sizes the
// memory to the module's minimum, which the host has already checked against
// the limit, so it never fails.
func (m *memory) Reallocate(size uint64) []byte {
	if m.init && size > m.owner.limit {
		m.owner.refused.Store(true)
		return nil
	}
	m.init = true
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically, never beyond the limit, so a guest growing one
	// page at a time does not copy its memory on every step.
	newCap := max(size, min(2*uint64(cap(m.buf)), m.owner.limit))
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *memory) Free() { m.buf = nil }

var _ experimental.MemoryAllocator = (*Allocator)(nil)
