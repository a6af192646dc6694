// Package site serves the bundled demo shop in two versions: v1, where the
// demo workflow is recorded, and v2, where ids, texts, layout and timing
// changed and an overlay intercepts clicks, so the workflow must heal.
package site

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed v1 v2
var files embed.FS

// Handler serves /v1/ and /v2/.
func Handler() http.Handler {
	sub, _ := fs.Sub(files, ".")
	return http.FileServerFS(sub)
}
