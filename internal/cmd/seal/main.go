// Command seal writes a plugin manifest beside a freshly built module, with
// the module's file name and sha256 filled in. The build uses it so that
// manifests in the source tree never carry hashes of one machine's build.
//
//	seal SOURCE_MANIFEST BUILT_MODULE
//
// writes manifest.toml into the folder of BUILT_MODULE. The work is done by
// package internal/seal, which `engine plugins seal` shares.
package main

import (
	"fmt"
	"os"

	"github.com/selfheal/engine/internal/seal"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: seal SOURCE_MANIFEST BUILT_MODULE")
		os.Exit(2)
	}
	if _, err := seal.Seal(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
