package heal

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/selfheal/engine/abi"
)

// Call is one strategy call: the engine's request and access to the host
// functions. It is valid only during the strategy function it is passed to.
type Call struct {
	Request abi.Request
}

// Target returns the failed action's target, never nil.
func (c *Call) Target() *abi.Target {
	if c.Request.Action.Target == nil {
		return &abi.Target{}
	}
	return c.Request.Action.Target
}

// Config decodes the strategy's configuration (the manifest's
// [config.STRATEGY] table merged with the error pattern's parameters) into v.
// Fields absent from the configuration keep the values v already has, so
// set defaults before calling.
func (c *Call) Config(v any) error {
	if len(c.Request.Config) == 0 || string(c.Request.Config) == "null" {
		return nil
	}
	if err := decodeConfig(c.Request.Config, v); err != nil {
		return fmt.Errorf("heal: config of strategy %q: %w", c.Request.Strategy, err)
	}
	return nil
}

// Level is a log level of heal_log.write.
type Level int32

// Log levels.
const (
	LevelTrace = Level(abi.LogTrace)
	LevelDebug = Level(abi.LogDebug)
	LevelInfo  = Level(abi.LogInfo)
	LevelWarn  = Level(abi.LogWarn)
	LevelError = Level(abi.LogError)
)

// Log writes msg into the plugin's log (capability log).
func (c *Call) Log(level Level, msg string) { logWrite(int32(level), []byte(msg)) }

// Logf formats and writes a message into the plugin's log (capability log).
func (c *Call) Logf(level Level, format string, args ...any) {
	c.Log(level, fmt.Sprintf(format, args...))
}

// Now returns the host's clock (capability time).
func (c *Call) Now() time.Time { return time.UnixMilli(nowMS()) }

// Remaining returns the time left before the call's deadline (capability
// time).
func (c *Call) Remaining() time.Duration { return time.Duration(remainingMS()) * time.Millisecond }

// Sleep waits d without spinning (capability time). The host never sleeps
// past the call's deadline less a grace period; completed is false when the
// sleep was cut short, and the strategy should then return promptly.
func (c *Call) Sleep(d time.Duration) (completed bool) {
	ms := d.Milliseconds()
	if ms > 1<<31-1 {
		ms = 1<<31 - 1
	}
	if ms < 0 {
		ms = 0
	}
	return sleepMS(int32(ms)) == 0
}

// scratch receives host responses. An instance runs one call at a time, so
// one buffer serves every call; larger responses take the pending path.
var scratch = make([]byte, 16<<10)

var emptyInput = []byte("{}")

// inputBuf holds host-call inputs, reused like scratch.
var inputBuf = make([]byte, 0, 1<<10)

// invoke performs one call of the JSON convention: encode in, call fn with
// the scratch buffer, fetch a larger response with heal_host.take, turn a
// negative status into a *HostError and decode the response into out.
func invoke(f abi.HostFunc, fn func(in, out []byte) int32, in, out any) error {
	input := emptyInput
	if in != nil {
		var ok bool
		if input, ok = appendInput(inputBuf[:0], in); ok {
			inputBuf = input
		} else {
			var err error
			if input, err = json.Marshal(in); err != nil {
				return fmt.Errorf("heal: %s.%s: encoding the input: %w", f.Module(), f.Name, err)
			}
		}
	}
	n := fn(input, scratch)
	if n < 0 {
		return hostError(f.Module()+"."+f.Name, n)
	}
	resp := scratch[:min(int(n), len(scratch))]
	if int(n) > len(scratch) {
		resp = make([]byte, n)
		m := take(resp)
		if m < 0 {
			return hostError(abi.FnTake.Module()+"."+abi.FnTake.Name, m)
		}
		if int(m) > len(resp) {
			return fmt.Errorf("heal: %s.%s: pending response grew from %d to %d bytes", f.Module(), f.Name, n, m)
		}
		resp = resp[:m]
	}
	if err := decodeResponse(resp, out); err != nil {
		return fmt.Errorf("heal: %s.%s: decoding the response: %w", f.Module(), f.Name, err)
	}
	return nil
}

// hostError builds the error of a failed host call, with the host's message.
func hostError(fn string, status int32) error {
	buf := make([]byte, 256)
	n := lastError(buf)
	if int(n) > len(buf) {
		buf = make([]byte, n)
		n = lastError(buf)
	}
	n = max(0, min(n, int32(len(buf))))
	return &HostError{Func: fn, Status: status, Message: string(buf[:n])}
}

// PageInfo returns the page's URL, title and ready state (capability browser).
func (c *Call) PageInfo() (abi.PageInfo, error) {
	var out abi.PageInfo
	return out, invoke(abi.FnPageInfo, pageInfo, nil, &out)
}

// Query returns the elements matching q's CSS selector or XPath, without
// waiting (capability browser).
func (c *Call) Query(q abi.Query) ([]abi.Element, error) {
	var out abi.QueryResult
	return out.Elements, invoke(abi.FnQuery, query, q, &out)
}

// Exists counts the elements matching q and says whether one is visible,
// without waiting (capability browser).
func (c *Call) Exists(q abi.Query) (abi.ExistsResult, error) {
	var out abi.ExistsResult
	return out, invoke(abi.FnExists, exists, q, &out)
}

// Snapshot returns the page's elements (capability browser).
func (c *Call) Snapshot() (abi.Snapshot, error) {
	var out abi.Snapshot
	return out, invoke(abi.FnSnapshot, snapshot, nil, &out)
}

// NetworkState reports whether the page is online and requests in flight
// (capability browser).
func (c *Call) NetworkState() (abi.NetworkState, error) {
	var out abi.NetworkState
	return out, invoke(abi.FnNetworkState, networkState, nil, &out)
}

// Screenshot returns a PNG of the viewport (capability browser).
func (c *Call) Screenshot(r abi.ScreenshotRequest) (abi.Screenshot, error) {
	var out abi.Screenshot
	return out, invoke(abi.FnScreenshot, screenshot, r, &out)
}

// Click clicks the element or point l addresses (capability browser_act).
func (c *Call) Click(l abi.Locator) (abi.ActResult, error) { return act(abi.FnClick, click, l) }

// Type types l.Text into the element l addresses (capability browser_act).
func (c *Call) Type(l abi.Locator) (abi.ActResult, error) { return act(abi.FnType, typeText, l) }

// Press presses l.Key on the element l addresses, or on the page
// (capability browser_act).
func (c *Call) Press(l abi.Locator) (abi.ActResult, error) { return act(abi.FnPress, press, l) }

// Hover moves the mouse over the element or point l addresses (capability
// browser_act).
func (c *Call) Hover(l abi.Locator) (abi.ActResult, error) { return act(abi.FnHover, hover, l) }

// ScrollIntoView scrolls the element l addresses into view (capability
// browser_act).
func (c *Call) ScrollIntoView(l abi.Locator) (abi.ActResult, error) {
	return act(abi.FnScrollIntoView, scrollIntoView, l)
}

// WaitForSelector waits until l matches, and is visible when l.Visible
// (capability browser_act).
func (c *Call) WaitForSelector(l abi.Locator) (abi.ActResult, error) {
	return act(abi.FnWaitForSelector, waitForSelector, l)
}

// Navigate loads n.URL (capability browser_act).
func (c *Call) Navigate(n abi.Navigation) (abi.ActResult, error) {
	return act(abi.FnNavigate, navigate, n)
}

// Reload reloads the page, bypassing the cache with n.IgnoreCache
// (capability browser_act).
func (c *Call) Reload(n abi.Navigation) (abi.ActResult, error) { return act(abi.FnReload, reload, n) }

// Back goes back in the page's history (capability browser_act).
func (c *Call) Back(n abi.Navigation) (abi.ActResult, error) { return act(abi.FnBack, back, n) }

// NewContext opens a fresh browser context for the session and loads n.URL
// or the current URL in it (capability browser_act).
func (c *Call) NewContext(n abi.Navigation) (abi.ActResult, error) {
	return act(abi.FnNewContext, newContext, n)
}

// LoadCached shows the last good copy of n.URL or the current URL
// (capability browser_act).
func (c *Call) LoadCached(n abi.Navigation) (abi.ActResult, error) {
	return act(abi.FnLoadCached, loadCached, n)
}

// WaitNetworkIdle waits until no request has been in flight for r.IdleMS
// (capability browser_act).
func (c *Call) WaitNetworkIdle(r abi.IdleRequest) (abi.ActResult, error) {
	return act(abi.FnWaitNetworkIdle, waitNetworkIdle, r)
}

func act(f abi.HostFunc, fn func(in, out []byte) int32, in any) (abi.ActResult, error) {
	var out abi.ActResult
	return out, invoke(f, fn, in, &out)
}

// Resolve asks the resolver for r.Target at a healing level (capability
// resolver). When nothing is good enough the error matches ErrNotFound.
func (c *Call) Resolve(r abi.ResolveRequest) (abi.Resolution, error) {
	var out abi.Resolution
	return out, invoke(abi.FnResolve, resolve, r, &out)
}

// Candidates returns the resolver's scored candidates for r.Target without
// choosing one (capability resolver).
func (c *Call) Candidates(r abi.ResolveRequest) (abi.Resolution, error) {
	var out abi.Resolution
	return out, invoke(abi.FnCandidates, candidates, r, &out)
}

// LocateText finds text on a screenshot by OCR (capability vision).
func (c *Call) LocateText(r abi.LocateTextRequest) (abi.TextLocation, error) {
	var out abi.TextLocation
	return out, invoke(abi.FnLocateText, locateText, r, &out)
}

// LookupHost resolves a host name (capability net). A failed lookup is a
// result with Error set, not an error.
func (c *Call) LookupHost(r abi.LookupRequest) (abi.LookupResult, error) {
	var out abi.LookupResult
	return out, invoke(abi.FnLookupHost, lookupHost, r, &out)
}
