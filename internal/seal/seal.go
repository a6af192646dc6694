// Package seal writes a plugin's manifest beside its built module with the
// module's file name and sha256 filled in, so that manifests in a source
// tree never carry the hashes of one machine's build. The build
// (internal/cmd/seal) and `engine plugins seal` both use it.
package seal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ManifestName is the sealed manifest's file name.
const ManifestName = "manifest.toml"

// Seal reads the source manifest and the built module and writes
// manifest.toml into the module's folder: the source manifest with its
// top-level module and sha256 keys replaced by the module's. It returns the
// written path. When the source manifest is that same file it is rewritten
// in place.
func Seal(manifestPath, modulePath string) (string, error) {
	src, err := os.ReadFile(manifestPath)
	if err != nil {
		return "", fmt.Errorf("seal: source manifest: %w", err)
	}
	mod, err := os.ReadFile(modulePath)
	if err != nil {
		return "", fmt.Errorf("seal: module: %w", err)
	}
	out, err := Sealed(src, manifestPath, filepath.Base(modulePath), mod)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(filepath.Dir(modulePath), ManifestName)
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return dst, nil
}

// Sealed returns the manifest src (read from name) with module = moduleName
// and sha256 = the checksum of module first, and any top-level module and
// sha256 keys of src dropped. Tables and comments are kept as written.
func Sealed(src []byte, name, moduleName string, module []byte) ([]byte, error) {
	sum := sha256.Sum256(module)
	var out bytes.Buffer
	fmt.Fprintf(&out, "module = %q\nsha256 = %q\n", moduleName, hex.EncodeToString(sum[:]))
	sc := bufio.NewScanner(bytes.NewReader(src))
	topLevel := true
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			topLevel = false
		}
		if topLevel && (hasKey(trimmed, "module") || hasKey(trimmed, "sha256")) {
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("seal: %s: %w", name, err)
	}
	return out.Bytes(), nil
}

func hasKey(line, key string) bool {
	if !strings.HasPrefix(line, key) {
		return false
	}
	rest := strings.TrimSpace(line[len(key):])
	return strings.HasPrefix(rest, "=")
}
