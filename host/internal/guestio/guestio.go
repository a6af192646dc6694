// Package guestio turns a guest's stdout and stderr into log lines and keeps
// the tail of stderr for error reports.
package guestio

import (
	"bytes"
	"sync"
)

// maxLine bounds a line kept while waiting for its newline; longer output is
// emitted in pieces so a guest cannot make the host buffer without limit.
const maxLine = 4096

// LineWriter calls Emit once per line written to it.
type LineWriter struct {
	mu   sync.Mutex
	Emit func(line string)
	// Tail, when set, keeps the last output written.
	Tail *Tail
	buf  []byte
}

// Write implements io.Writer. It never fails, so a chatty guest cannot
// provoke an error path.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.Tail != nil {
		w.Tail.add(p)
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.flushLocked()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.flushLocked()
		p = p[i+1:]
	}
	return n, nil
}

// Flush emits a pending partial line.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.flushLocked()
	}
}

func (w *LineWriter) flushLocked() {
	line := string(bytes.TrimRight(w.buf, "\r"))
	w.buf = w.buf[:0]
	if w.Emit != nil {
		w.Emit(line)
	}
}

// Tail keeps the last Size bytes written to it.
type Tail struct {
	mu   sync.Mutex
	Size int
	buf  []byte
}

func (t *Tail) add(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.Size {
		t.buf = append(t.buf[:0], p[len(p)-t.Size:]...)
		return
	}
	if over := len(t.buf) + len(p) - t.Size; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
}

// String returns the kept bytes, starting at a line boundary when one is
// within reach so the first line is not cut.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) == t.Size {
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return string(bytes.TrimRight(b, "\n"))
}

// Reset forgets the kept bytes.
func (t *Tail) Reset() {
	t.mu.Lock()
	t.buf = t.buf[:0]
	t.mu.Unlock()
}
