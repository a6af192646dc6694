// Package thirdparty holds the examples of third-party strategy plugins in
// use: workflows that fail without a plugin's strategy, and the pages they
// run against. Each workflow names the strategy it needs in its step's
// strategies list; the plugins are examples/plugins/go-wait-visible (Go)
// and examples/plugins/c-scroll (C), built into build/plugins by make wasm.
package thirdparty

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed site
var files embed.FS

// Handler serves the example pages (late.html, lazy.html) at the root.
func Handler() http.Handler {
	sub, err := fs.Sub(files, "site")
	if err != nil {
		panic(err) // the embedded tree always has site/
	}
	return http.FileServerFS(sub)
}
