// Command strategies is the engine's built-in recovery strategies, built as
// one WebAssembly plugin (selfheal.builtin): one Go guest costs about 2 MB
// and half a second to compile, so every built-in shares one module. The
// engine loads it through the same path as third-party plugins; manifest.toml
// beside this file lists the strategies, the grants they need and their
// default parameters.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o builtin.wasm .
package main

import "github.com/selfheal/engine/sdk/go/heal"

// builtins lists every strategy of the module, by error pattern.
var builtins = []struct {
	name string
	fn   heal.Strategy
}{
	// element_not_found
	{"wait_longer", waitLonger},
	{"scroll_into_view", scrollIntoView},
	{"use_vision_fallback", useVisionFallback},
	// timeout
	{"retry_with_longer_timeout", retryWithLongerTimeout},
	{"check_network_idle", checkNetworkIdle},
	{"reload_page", reloadPage},
	// security_challenge
	{"wait_for_manual_intervention", waitForManualIntervention},
	{"use_different_approach", useDifferentApproach},
	// page_load_failure
	{"retry_navigation", retryNavigation},
	{"check_dns", checkDNS},
	{"use_cached_version", useCachedVersion},
	// action_execution_failure
	{"wait_and_retry", waitAndRetry},
	{"use_alternative_selector", useAlternativeSelector},
	{"refresh_dom_state", refreshDOMState},
	// network_error
	{"wait_for_reconnection", waitForReconnection},
	{"retry_request", retryRequest},
	// clicks intercepted by banners, modals and sticky headers
	{"dismiss_overlay", dismissOverlay},
}

func init() {
	for _, b := range builtins {
		heal.Register(b.name, b.fn)
	}
}

// main is never run: the engine calls the module's exports.
func main() {}
