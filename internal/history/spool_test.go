package history

import (
	"bytes"
	"testing"
)

// Whatever bytes surround them, valid frames are decoded and every other
// byte is reported as corrupt: decoded plus corrupt covers the input.
func FuzzDecodeFrames(f *testing.F) {
	good, err := encodeFrames([]Attempt{{ID: NewID(), ErrorType: "timeout"}, {ID: NewID(), ErrorType: "unknown", Success: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte("HSP1"), []byte("\x00\x01"))
	f.Add([]byte("garbage"), []byte("HSP1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, before, after []byte) {
		data := append(append(append([]byte{}, before...), good...), after...)
		as, bad := decodeFrames(data)
		var covered int
		for _, b := range bad {
			covered += len(b.data)
			if !bytes.Equal(data[b.off:b.off+int64(len(b.data))], b.data) {
				t.Fatalf("corrupt range at %d does not hold the input's bytes", b.off)
			}
		}
		frames, _ := encodeFrames(as)
		if covered+len(frames) != len(data) {
			t.Fatalf("%d corrupt + %d decoded bytes != %d input bytes", covered, len(frames), len(data))
		}
		if len(as) < 2 {
			t.Fatalf("lost the valid frames: decoded %d", len(as))
		}
	})
}
