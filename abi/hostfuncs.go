package abi

// Signature describes a host function's WebAssembly type with the letters
// i (i32), I (i64): params, then results.
type Signature struct {
	Params  string
	Results string
}

// Host function signatures. Most host functions use the JSON call convention:
// (in_ptr, in_len, out_ptr, out_cap i32) -> i32, described in ABI.md.
var (
	SigJSONCall = Signature{Params: "iiii", Results: "i"}
	SigTake     = Signature{Params: "ii", Results: "i"}
	SigLog      = Signature{Params: "iii", Results: ""}
	SigNow      = Signature{Params: "", Results: "I"}
	SigSleep    = Signature{Params: "i", Results: "i"}
)

// HostFunc names one host function of the ABI.
type HostFunc struct {
	Cap       Capability
	Name      string
	Signature Signature
	// Since is the ABI version that introduced the function.
	Since Version
}

// Module returns the import module the function lives in.
func (f HostFunc) Module() string { return f.Cap.Module() }

// Host functions of ABI 1.0. Input and output types of the JSON functions
// are named beside each entry.
var (
	// heal_host: response plumbing.
	FnTake      = HostFunc{CapHost, "take", SigTake, MakeVersion(1, 0)}       // copies the pending response
	FnLastError = HostFunc{CapHost, "last_error", SigTake, MakeVersion(1, 0)} // copies the last error message

	// heal_log
	FnLog = HostFunc{CapLog, "write", SigLog, MakeVersion(1, 0)} // (level, ptr, len)

	// heal_time
	FnNowMS       = HostFunc{CapTime, "now_ms", SigNow, MakeVersion(1, 0)}       // Unix milliseconds
	FnRemainingMS = HostFunc{CapTime, "remaining_ms", SigNow, MakeVersion(1, 0)} // until the call's deadline
	FnSleepMS     = HostFunc{CapTime, "sleep_ms", SigSleep, MakeVersion(1, 0)}   // deadline-aware sleep

	// heal_browser
	FnPageInfo     = HostFunc{CapBrowser, "page_info", SigJSONCall, MakeVersion(1, 0)}     // Empty -> PageInfo
	FnQuery        = HostFunc{CapBrowser, "query", SigJSONCall, MakeVersion(1, 0)}         // Query -> QueryResult
	FnExists       = HostFunc{CapBrowser, "exists", SigJSONCall, MakeVersion(1, 0)}        // Query -> ExistsResult
	FnSnapshot     = HostFunc{CapBrowser, "snapshot", SigJSONCall, MakeVersion(1, 0)}      // Empty -> Snapshot
	FnNetworkState = HostFunc{CapBrowser, "network_state", SigJSONCall, MakeVersion(1, 0)} // Empty -> NetworkState
	FnScreenshot   = HostFunc{CapBrowser, "screenshot", SigJSONCall, MakeVersion(1, 0)}    // ScreenshotRequest -> Screenshot

	// heal_browser_act
	FnClick           = HostFunc{CapBrowserAct, "click", SigJSONCall, MakeVersion(1, 0)}             // Locator -> ActResult
	FnType            = HostFunc{CapBrowserAct, "type", SigJSONCall, MakeVersion(1, 0)}              // Locator(text) -> ActResult
	FnPress           = HostFunc{CapBrowserAct, "press", SigJSONCall, MakeVersion(1, 0)}             // Locator(key) -> ActResult
	FnHover           = HostFunc{CapBrowserAct, "hover", SigJSONCall, MakeVersion(1, 0)}             // Locator -> ActResult
	FnScrollIntoView  = HostFunc{CapBrowserAct, "scroll_into_view", SigJSONCall, MakeVersion(1, 0)}  // Locator -> ActResult
	FnReload          = HostFunc{CapBrowserAct, "reload", SigJSONCall, MakeVersion(1, 0)}            // Navigation -> ActResult
	FnNavigate        = HostFunc{CapBrowserAct, "navigate", SigJSONCall, MakeVersion(1, 0)}          // Navigation -> ActResult
	FnBack            = HostFunc{CapBrowserAct, "back", SigJSONCall, MakeVersion(1, 0)}              // Navigation -> ActResult
	FnWaitForSelector = HostFunc{CapBrowserAct, "wait_for_selector", SigJSONCall, MakeVersion(1, 0)} // Locator -> ActResult
	FnWaitNetworkIdle = HostFunc{CapBrowserAct, "wait_network_idle", SigJSONCall, MakeVersion(1, 0)} // IdleRequest -> ActResult
	FnNewContext      = HostFunc{CapBrowserAct, "new_context", SigJSONCall, MakeVersion(1, 0)}       // Navigation -> ActResult
	FnLoadCached      = HostFunc{CapBrowserAct, "load_cached", SigJSONCall, MakeVersion(1, 0)}       // Navigation -> ActResult

	// heal_resolver
	FnResolve    = HostFunc{CapResolver, "resolve", SigJSONCall, MakeVersion(1, 0)}    // ResolveRequest -> Resolution
	FnCandidates = HostFunc{CapResolver, "candidates", SigJSONCall, MakeVersion(1, 0)} // ResolveRequest -> Resolution

	// heal_vision
	FnLocateText = HostFunc{CapVision, "locate_text", SigJSONCall, MakeVersion(1, 0)} // LocateTextRequest -> TextLocation

	// heal_net
	FnLookupHost = HostFunc{CapNet, "lookup_host", SigJSONCall, MakeVersion(1, 0)} // LookupRequest -> LookupResult
)

// HostFuncs lists every host function of this ABI version.
var HostFuncs = []HostFunc{
	FnTake, FnLastError,
	FnLog,
	FnNowMS, FnRemainingMS, FnSleepMS,
	FnPageInfo, FnQuery, FnExists, FnSnapshot, FnNetworkState, FnScreenshot,
	FnClick, FnType, FnPress, FnHover, FnScrollIntoView, FnReload, FnNavigate, FnBack,
	FnWaitForSelector, FnWaitNetworkIdle, FnNewContext, FnLoadCached,
	FnResolve, FnCandidates,
	FnLocateText,
	FnLookupHost,
}

// LookupHostFunc finds a host function by import module and name.
func LookupHostFunc(module, name string) (HostFunc, bool) {
	for _, f := range HostFuncs {
		if f.Module() == module && f.Name == name {
			return f, true
		}
	}
	return HostFunc{}, false
}

// Status codes returned by host functions. A non-negative value from a JSON
// call is the length of the response; a negative value is one of these.
// After any negative status, heal_host.last_error returns a message.
const (
	StatusBadRequest  int32 = -1 // the input was not valid JSON of the expected type
	StatusNotFound    int32 = -2 // no element matched, or nothing to resolve
	StatusTimeout     int32 = -3 // the operation, or the call's deadline, ran out
	StatusUnavailable int32 = -4 // no browser, resolver or OCR is attached to this call
	StatusFailed      int32 = -5 // the operation failed; see last_error
	StatusNoPending   int32 = -6 // heal_host.take found no pending response
	StatusTooLarge    int32 = -7 // the response exceeds the host's response cap
)

// StatusText names a status code for messages.
func StatusText(code int32) string {
	switch code {
	case StatusBadRequest:
		return "bad_request"
	case StatusNotFound:
		return "not_found"
	case StatusTimeout:
		return "timeout"
	case StatusUnavailable:
		return "unavailable"
	case StatusFailed:
		return "failed"
	case StatusNoPending:
		return "no_pending"
	case StatusTooLarge:
		return "too_large"
	}
	if code >= 0 {
		return "ok"
	}
	return "unknown"
}

// Log levels for heal_log.write.
const (
	LogTrace int32 = 0
	LogDebug int32 = 1
	LogInfo  int32 = 2
	LogWarn  int32 = 3
	LogError int32 = 4
)
