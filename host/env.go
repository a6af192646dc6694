package host

import (
	"context"
	"net"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/abi"
)

// Env holds the services one strategy call may use through host functions.
// A nil service makes its host functions return abi.StatusUnavailable.
// Services return errors wrapping abi.ErrNotFound, abi.ErrUnavailable,
// abi.ErrBadRequest or context errors; the host maps them with abi.StatusOf
// and hands the message to the guest through heal_host.last_error.
type Env struct {
	Browser  Browser
	Resolver Resolver
	Vision   Vision
	Net      Net
	// Logger, when set, receives the guest's log lines for this call (named
	// after the plugin) instead of the runtime's logger.
	Logger hclog.Logger
}

// Browser is the page the failed action ran on: heal_browser reads it and
// heal_browser_act acts on it.
type Browser interface {
	PageInfo(ctx context.Context) (abi.PageInfo, error)
	Query(ctx context.Context, q abi.Query) ([]abi.Element, error)
	Exists(ctx context.Context, q abi.Query) (abi.ExistsResult, error)
	Snapshot(ctx context.Context) (abi.Snapshot, error)
	NetworkState(ctx context.Context) (abi.NetworkState, error)
	Screenshot(ctx context.Context, r abi.ScreenshotRequest) (abi.Screenshot, error)
	Click(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Type(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Press(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Hover(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	ScrollIntoView(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	WaitForSelector(ctx context.Context, l abi.Locator) (abi.ActResult, error)
	Navigate(ctx context.Context, n abi.Navigation) (abi.ActResult, error)
	Reload(ctx context.Context, n abi.Navigation) (abi.ActResult, error)
	Back(ctx context.Context, n abi.Navigation) (abi.ActResult, error)
	NewContext(ctx context.Context, n abi.Navigation) (abi.ActResult, error)
	LoadCached(ctx context.Context, n abi.Navigation) (abi.ActResult, error)
	WaitNetworkIdle(ctx context.Context, r abi.IdleRequest) (abi.ActResult, error)
}

// Resolver finds elements for targets at a healing level (heal_resolver).
type Resolver interface {
	Resolve(ctx context.Context, r abi.ResolveRequest) (abi.Resolution, error)
	Candidates(ctx context.Context, r abi.ResolveRequest) (abi.Resolution, error)
}

// Vision locates text on a screenshot by OCR (heal_vision).
type Vision interface {
	LocateText(ctx context.Context, r abi.LocateTextRequest) (abi.TextLocation, error)
}

// Net answers DNS lookups (heal_net).
type Net interface {
	LookupHost(ctx context.Context, r abi.LookupRequest) (abi.LookupResult, error)
}

// SystemNet returns a Net that resolves names with the system resolver,
// bounded by the call's context.
func SystemNet() Net { return systemNet{r: net.DefaultResolver} }

type systemNet struct{ r *net.Resolver }

// LookupHost reports a failed lookup in the result, as ABI.md asks; only a
// missing host name is a bad request.
func (s systemNet) LookupHost(ctx context.Context, r abi.LookupRequest) (abi.LookupResult, error) {
	if r.Host == "" {
		return abi.LookupResult{}, fmtBadRequest("lookup_host: empty host")
	}
	addrs, err := s.r.LookupHost(ctx, r.Host)
	res := abi.LookupResult{Host: r.Host, Addrs: addrs}
	if err != nil {
		if ctx.Err() != nil {
			return abi.LookupResult{}, ctx.Err()
		}
		res.Error = err.Error()
	}
	return res, nil
}

var _ Net = systemNet{}
