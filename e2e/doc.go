// Package e2e holds the engine's end-to-end healing tests: a local test
// site (served by httptest) produces each of the six error patterns of the
// self-healing design for real in headless Chromium, and the tests check
// that engine.Session.Do recovers through the built-in WebAssembly
// strategies and that the history store holds the attempts and success
// rates afterwards.
//
// The tests need the plugins built by `make wasm` (build/plugins) and
// Chromium; they fail, rather than skip, when either is missing.
package e2e
