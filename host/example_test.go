package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// Load a plugin, install it in a registry and run one of its strategies
// against fake services.
func Example() {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(filepath.Join(os.TempDir(), "host-example-cache")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(ctx)

	// testdata/example/manifest.toml describes testdata/good.wasm.
	p, err := rt.Load(ctx, "testdata/example/manifest.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := host.NewRegistry()
	defer reg.Close(ctx)
	if _, err := reg.Swap(p); err != nil {
		fmt.Println(err)
		return
	}

	page := hosttest.New("http://shop.test/cart")
	res, err := reg.Call(ctx, page.Env(), abi.Request{Strategy: "page_info", Attempt: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Outcome, res.Message, string(res.Details))
	fmt.Println(page.Browser.Calls()[0].Method)
	// Output:
	// retry page {"url":"http://shop.test/cart","title":"","ready_state":"complete"}
	// PageInfo
}
