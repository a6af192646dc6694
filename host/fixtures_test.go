package host_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestExampleModuleIsGoodFixture(t *testing.T) {
	a, _ := os.ReadFile("testdata/good.wasm")
	b, _ := os.ReadFile("testdata/example/good.wasm")
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("testdata/example/good.wasm must be a copy of testdata/good.wasm (update its sha256 in the manifest too)")
	}
}

// TestFixturesMatchSource checks that every committed .wasm fixture is what
// wat2wasm makes of the .wat beside it.
func TestFixturesMatchSource(t *testing.T) {
	wat2wasm, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm is not installed (Debian package wabt); the committed .wasm files are used as they are")
	}
	sources, _ := filepath.Glob("testdata/*.wat")
	more, _ := filepath.Glob("testdata/error/*.wat")
	sources = append(sources, more...)
	if len(sources) < 10 {
		t.Fatalf("only %d fixtures found", len(sources))
	}
	for _, src := range sources {
		out := filepath.Join(t.TempDir(), "out.wasm")
		if msg, err := exec.Command(wat2wasm, src, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("wat2wasm %s: %v\n%s", src, err, msg)
		}
		want, _ := os.ReadFile(out)
		got, err := os.ReadFile(src[:len(src)-len(".wat")] + ".wasm")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: the committed .wasm differs from wat2wasm's output; rebuild it", src)
		}
	}
}
