package host_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
)

func TestSystemNet(t *testing.T) {
	n := host.SystemNet()
	res, err := n.LookupHost(context.Background(), abi.LookupRequest{Host: "localhost"})
	if err != nil || res.Error != "" {
		t.Fatalf("localhost: %+v %v", res, err)
	}
	if !slices.Contains(res.Addrs, "127.0.0.1") && !slices.Contains(res.Addrs, "::1") {
		t.Errorf("localhost resolved to %v", res.Addrs)
	}
	res, err = n.LookupHost(context.Background(), abi.LookupRequest{Host: "no-such-host.invalid"})
	if err != nil || res.Error == "" {
		t.Errorf("a failed lookup must be a result with Error set: %+v %v", res, err)
	}
	if _, err := n.LookupHost(context.Background(), abi.LookupRequest{}); !errors.Is(err, abi.ErrBadRequest) {
		t.Errorf("empty host: %v", err)
	}
}
