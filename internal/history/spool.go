package history

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrSpoolCorrupt is wrapped by every *SpoolCorruptError.
var ErrSpoolCorrupt = errors.New("history: spool file corrupt")

// SpoolCorruptError reports bytes of the spool that are not a valid record:
// where they are, and where they were moved to. The records around them are
// kept.
type SpoolCorruptError struct {
	Path       string
	Offset     int64
	Length     int64
	Quarantine string // file holding the bad bytes, once moved
}

func (e *SpoolCorruptError) Error() string {
	s := fmt.Sprintf("history: spool %s: %d corrupt bytes at offset %d", e.Path, e.Length, e.Offset)
	if e.Quarantine != "" {
		s += " (moved to " + e.Quarantine + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrSpoolCorrupt) true.
func (e *SpoolCorruptError) Unwrap() error { return ErrSpoolCorrupt }

// The spool is an append-only file of frames:
//
//	magic "HSP1" | payload length uint32 LE | CRC-32C of payload uint32 LE | payload (JSON Attempt)
//
// A torn or damaged frame fails its length or checksum; the reader skips to
// the next magic that starts a valid frame.
var spoolMagic = []byte("HSP1")

const (
	frameHeader = 12
	maxPayload  = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// spool is the durable queue of attempts the database has not taken yet.
type spool struct {
	path string

	mu   sync.Mutex
	f    *os.File
	size int64
}

func openSpool(path string) (*spool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: spool directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: opening spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("history: spool %s: %w", path, err)
	}
	return &spool{path: path, f: f, size: st.Size()}, nil
}

func encodeFrames(as []Attempt) ([]byte, error) {
	var buf bytes.Buffer
	for i := range as {
		payload, err := json.Marshal(&as[i])
		if err != nil {
			return nil, fmt.Errorf("history: encoding attempt %s: %w", as[i].ID, err)
		}
		var hdr [frameHeader]byte
		copy(hdr[:4], spoolMagic)
		binary.LittleEndian.PutUint32(hdr[4:8], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[8:12], crc32.Checksum(payload, castagnoli))
		buf.Write(hdr[:])
		buf.Write(payload)
	}
	return buf.Bytes(), nil
}

// append writes attempts and syncs: when it returns nil they survive a
// crash.
func (s *spool) append(as []Attempt) error {
	b, err := encodeFrames(as)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("history: writing spool %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("history: syncing spool %s: %w", s.path, err)
	}
	s.size += int64(len(b))
	return nil
}

func (s *spool) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// read returns the valid records, the corrupt ranges (with their bytes) and
// the offset read up to.
func (s *spool) read() ([]Attempt, []corruptRange, int64, error) {
	s.mu.Lock()
	end := s.size
	s.mu.Unlock()
	data := make([]byte, end)
	if _, err := s.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, 0, fmt.Errorf("history: reading spool %s: %w", s.path, err)
	}
	as, bad := decodeFrames(data)
	return as, bad, end, nil
}

type corruptRange struct {
	off  int64
	data []byte
}

func decodeFrames(data []byte) ([]Attempt, []corruptRange) {
	var as []Attempt
	var bad []corruptRange
	p := 0
	for p < len(data) {
		if a, n, ok := frameAt(data, p); ok {
			as = append(as, a)
			p += n
			continue
		}
		// Resynchronise at the next magic that starts a valid frame.
		q := p + 1
		for q < len(data) {
			i := bytes.Index(data[q:], spoolMagic)
			if i < 0 {
				q = len(data)
				break
			}
			q += i
			if _, _, ok := frameAt(data, q); ok {
				break
			}
			q++
		}
		bad = append(bad, corruptRange{off: int64(p), data: data[p:q]})
		p = q
	}
	return as, bad
}

func frameAt(data []byte, p int) (Attempt, int, bool) {
	var a Attempt
	if len(data)-p < frameHeader || !bytes.Equal(data[p:p+4], spoolMagic) {
		return a, 0, false
	}
	n := int(binary.LittleEndian.Uint32(data[p+4 : p+8]))
	if n > maxPayload || len(data)-p-frameHeader < n {
		return a, 0, false
	}
	payload := data[p+frameHeader : p+frameHeader+n]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(data[p+8:p+12]) {
		return a, 0, false
	}
	if json.Unmarshal(payload, &a) != nil || a.ID == "" {
		return a, 0, false
	}
	return a, frameHeader + n, true
}

// quarantine moves corrupt bytes to a file beside the spool, so they can be
// inspected, and returns its name.
func (s *spool) quarantine(r corruptRange) (string, error) {
	name := fmt.Sprintf("%s.corrupt-%d-%d", s.path, time.Now().UnixNano(), r.off)
	if err := os.WriteFile(name, r.data, 0o600); err != nil {
		return "", fmt.Errorf("history: quarantining spool bytes: %w", err)
	}
	return name, nil
}

// dropPrefix removes the first n bytes, which the database has taken. Bytes
// appended since are kept: they are written to a new file that atomically
// replaces the spool.
func (s *spool) dropPrefix(n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= s.size {
		if err := s.f.Truncate(0); err != nil {
			return fmt.Errorf("history: truncating spool %s: %w", s.path, err)
		}
		s.size = 0
		return s.f.Sync()
	}
	tail := make([]byte, s.size-n)
	if _, err := s.f.ReadAt(tail, n); err != nil {
		return fmt.Errorf("history: reading spool %s: %w", s.path, err)
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("history: rewriting spool: %w", err)
	}
	if _, err := f.Write(tail); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("history: rewriting spool: %w", err)
	}
	f.Close()
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("history: rewriting spool: %w", err)
	}
	nf, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("history: reopening spool: %w", err)
	}
	s.f.Close()
	s.f = nf
	s.size = int64(len(tail))
	return nil
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}
