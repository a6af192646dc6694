// Package host runs recovery-strategy plugins: WebAssembly modules that
// implement abi/ABI.md, sandboxed by wazero.
//
// A Runtime compiles modules (with an on-disk compilation cache) and
// provides the host functions of every capability. Runtime.Load reads a
// plugin's TOML manifest, verifies the module's sha256, exports, imports and
// grants, and returns a Plugin: a pool of instances that serves strategy
// calls concurrently, one call per instance. Plugin.Call runs a strategy with
// the services of an Env (browser, resolver, vision, DNS), bounded by the
// manifest's limits; every failure is a *CallError matching one of the
// package's sentinel errors, and the plugin keeps serving. A Registry maps
// strategy names to plugins and swaps new plugin versions in while calls
// run.
//
// Package hosttest provides fake services for tests. RATIONALE.md explains
// the design.
package host
