package seal_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/seal"
)

func TestSeal(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.toml")
	mod := filepath.Join(dir, "out", "x.wasm")
	if err := os.MkdirAll(filepath.Dir(mod), 0o755); err != nil {
		t.Fatal(err)
	}
	code := []byte("\x00asm\x01\x00\x00\x00")
	if err := os.WriteFile(mod, code, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `# comment kept
id = "x"
version = "1.0.0"
abi = "1.0"
module = "stale.wasm"
sha256 = "00"
strategies = ["s"]

[config.s]
module = "kept: not top level"
`
	if err := os.WriteFile(src, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := seal.Seal(src, mod)
	if err != nil {
		t.Fatal(err)
	}
	if out != filepath.Join(dir, "out", "manifest.toml") {
		t.Fatalf("wrote %s", out)
	}
	m, err := host.LoadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	if got := m.SHA256(); hex.EncodeToString(got[:]) != hex.EncodeToString(sum[:]) || m.Module() != "x.wasm" {
		t.Fatalf("sealed module %q sha %x", m.Module(), m.SHA256())
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "# comment kept") || !strings.Contains(string(b), `module = "kept: not top level"`) ||
		strings.Contains(string(b), "stale.wasm") {
		t.Fatalf("sealed manifest:\n%s", b)
	}
	if _, err := seal.Seal(filepath.Join(dir, "missing.toml"), mod); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("missing source manifest: %v", err)
	}
}
