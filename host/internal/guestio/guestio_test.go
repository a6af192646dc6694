package guestio

import (
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	var lines []string
	tail := &Tail{Size: 16}
	w := &LineWriter{Emit: func(l string) { lines = append(lines, l) }, Tail: tail}
	w.Write([]byte("one\r\ntw"))
	w.Write([]byte("o\nthree"))
	w.Flush()
	w.Write([]byte(strings.Repeat("x", maxLine+10)))
	if len(lines) != 4 || lines[0] != "one" || lines[1] != "two" || lines[2] != "three" || len(lines[3]) < maxLine {
		t.Fatalf("lines = %q", lines)
	}
	if got := tail.String(); got != strings.Repeat("x", 16) {
		t.Errorf("tail = %q", got)
	}
}

func TestTailStartsAtLine(t *testing.T) {
	tail := &Tail{Size: 12}
	w := &LineWriter{Tail: tail}
	w.Write([]byte("first line\nsecond\nthird\n"))
	if got := tail.String(); got != "third" {
		t.Errorf("tail = %q, want the last whole line", got)
	}
	tail.Reset()
	if tail.String() != "" {
		t.Error("Reset kept bytes")
	}
}
