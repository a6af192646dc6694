package pluginwatch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfheal/engine/host"
)

// The fixture module (testdata/versioned.wat) answers every call with
// "fixture vNNN"; version patches those digits.
var fixtureWasm = func() []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "versioned.wasm"))
	if err != nil {
		panic(err)
	}
	return b
}()

const versionMark = "fixture v000"

// moduleOf returns the fixture module answering "fixture vNNN".
func moduleOf(t testing.TB, n int) []byte {
	t.Helper()
	if n < 0 || n > 999 {
		t.Fatalf("fixture version %d out of range", n)
	}
	i := bytes.Index(fixtureWasm, []byte(versionMark))
	if i < 0 {
		t.Fatal("testdata/versioned.wasm lacks the version mark")
	}
	out := bytes.Clone(fixtureWasm)
	copy(out[i:], fmt.Sprintf("fixture v%03d", n))
	return out
}

// breakage is how a fixture version is broken.
type breakage int

const (
	good       breakage = iota
	ungranted           // the manifest does not grant the imported log
	truncated           // the module is cut short (and sealed as such)
	strategies          // the manifest lists a strategy the module lacks
	badABI              // the manifest says an ABI the module does not speak
)

func (b breakage) String() string {
	return [...]string{"good", "ungranted", "truncated", "strategies", "badABI"}[b]
}

// writeVersion writes version n of the fixture plugin id into folder the
// way cp does: module first, then manifest, each truncated and rewritten.
func writeVersion(t testing.TB, folder, id string, n int, b breakage) {
	t.Helper()
	mod := moduleOf(t, n)
	grants, strats, abiV := `["log"]`, `["versioned"]`, "1.0"
	switch b {
	case ungranted:
		grants = `[]`
	case truncated:
		mod = mod[:len(mod)/2]
	case strategies:
		strats = `["versioned", "missing"]`
	case badABI:
		abiV = "1.1"
	}
	sum := sha256.Sum256(mod)
	manifest := fmt.Sprintf(`id = %q
version = "1.0.%d"
abi = %q
module = "versioned.wasm"
sha256 = %q
strategies = %s
grants = %s

[limits]
memory_pages = 2
call_timeout = "2s"
pool_size = 4
`, id, n, abiV, hex.EncodeToString(sum[:]), strats, grants)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "versioned.wasm"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "manifest.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newRuntime(t testing.TB) *host.Runtime {
	t.Helper()
	rt, err := host.NewRuntime(context.Background(), host.NewConfig().WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// TestFixtureSource rebuilds the committed fixture when wat2wasm is
// installed and fails if it differs from its source.
func TestFixtureSource(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm not installed; the committed versioned.wasm is used as is")
	}
	out := filepath.Join(t.TempDir(), "versioned.wasm")
	if b, err := exec.Command(wat2wasm, "-o", out, filepath.Join("testdata", "versioned.wat")).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, fixtureWasm) {
		t.Fatal("testdata/versioned.wasm is stale: run wat2wasm testdata/versioned.wat -o testdata/versioned.wasm")
	}
	if strings.Count(string(fixtureWasm), versionMark) != 1 {
		t.Fatalf("the version mark %q must occur exactly once", versionMark)
	}
}
