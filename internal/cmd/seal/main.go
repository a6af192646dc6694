// Command seal writes a plugin manifest beside a freshly built module, with
// the module's file name and sha256 filled in. The build uses it so that
// manifests in the source tree never carry hashes of one machine's build.
//
//	seal SOURCE_MANIFEST BUILT_MODULE
//
// writes manifest.toml into the folder of BUILT_MODULE.
package main

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

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: seal SOURCE_MANIFEST BUILT_MODULE")
		os.Exit(2)
	}
	if err := seal(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "seal:", err)
		os.Exit(1)
	}
}

func seal(manifestPath, modulePath string) error {
	src, err := os.ReadFile(manifestPath)
	if err != nil {
		return err
	}
	mod, err := os.ReadFile(modulePath)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(mod)
	var out bytes.Buffer
	fmt.Fprintf(&out, "module = %q\nsha256 = %q\n", filepath.Base(modulePath), hex.EncodeToString(sum[:]))
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
		return fmt.Errorf("%s: %w", manifestPath, err)
	}
	dst := filepath.Join(filepath.Dir(modulePath), "manifest.toml")
	return os.WriteFile(dst, out.Bytes(), 0o644)
}

func hasKey(line, key string) bool {
	if !strings.HasPrefix(line, key) {
		return false
	}
	rest := strings.TrimSpace(line[len(key):])
	return strings.HasPrefix(rest, "=")
}
