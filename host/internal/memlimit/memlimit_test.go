package memlimit

import "testing"

func TestAllocator(t *testing.T) {
	a := New(4)
	m := a.Allocate(pageSize, 100*pageSize)
	if b := m.Reallocate(2 * pageSize); len(b) != 2*pageSize {
		t.Fatalf("initial size %d", len(b))
	}
	b := m.Reallocate(2 * pageSize)
	b[10] = 7
	b = m.Reallocate(4 * pageSize)
	if len(b) != 4*pageSize || b[10] != 7 {
		t.Fatal("growth within the limit must keep the contents")
	}
	if a.Refused() {
		t.Fatal("refused too early")
	}
	if m.Reallocate(5*pageSize) != nil || !a.Refused() {
		t.Fatal("growth past the limit must fail and be recorded")
	}
	a.Reset()
	if a.Refused() {
		t.Fatal("Reset kept the refusal")
	}
}
