// Command benchguest is a Go guest whose strategies each do one part of what
// a built-in strategy does (nothing, decode its config, one host call, one
// log line, encode details), so that BenchmarkPhases in the strategies
// module can attribute a strategy call's time to its parts.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o benchguest.wasm .
package main

import (
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

type config struct {
	Multiplier       float64 `json:"multiplier"`
	DefaultTimeoutMS int64   `json:"default_timeout_ms"`
	MaxTimeoutMS     int64   `json:"max_timeout_ms"`
}

func init() {
	heal.Register("noop", func(*heal.Call) abi.Result { return heal.GiveUp("noop") })
	heal.Register("config", func(c *heal.Call) abi.Result {
		cfg := config{Multiplier: 2}
		if err := c.Config(&cfg); err != nil {
			return heal.Abort(err.Error())
		}
		return heal.GiveUp("config")
	})
	heal.Register("network_state", func(c *heal.Call) abi.Result {
		if _, err := c.NetworkState(); err != nil {
			return heal.Abort(err.Error())
		}
		return heal.GiveUp("network_state")
	})
	heal.Register("page_info", func(c *heal.Call) abi.Result {
		if _, err := c.PageInfo(); err != nil {
			return heal.Abort(err.Error())
		}
		return heal.GiveUp("page_info")
	})
	heal.Register("log", func(c *heal.Call) abi.Result {
		c.Logf(heal.LevelInfo, "retrying with timeout %d ms instead of %d ms", 10000, 5000)
		return heal.GiveUp("log")
	})
	heal.Register("details", func(c *heal.Call) abi.Result {
		return heal.WithDetails(heal.RetryWith(abi.RetryOptions{TimeoutMS: 10000}, "retry with a 10000 ms timeout"),
			map[string]any{"action_timeout_ms": 5000, "timeout_ms": 10000, "multiplier": 2.0, "times": 1,
				"online": true, "inflight": 0, "url": "https://shop.test/cart", "ready_state": "complete"})
	})
}

func main() {}
