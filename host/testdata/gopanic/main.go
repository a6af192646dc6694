// Command gopanic is a host test fixture: a Go guest (built with the SDK)
// whose strategy panics, to check that a Go panic becomes a typed trap with
// the panic message in the error's stderr. Built by host/wasm.mk.
package main

import (
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

func init() {
	heal.Register("panic_now", func(c *heal.Call) abi.Result {
		panic("strategy exploded on " + c.Request.Action.Kind)
	})
	heal.Register("calm", func(c *heal.Call) abi.Result { return heal.Retry("calm") })
}

func main() {}
