package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	engine "github.com/selfheal/engine"
)

// An agent that does its own browsing uses the engine as its self-healing
// service: classify the error, ask for a strategy, report how it went.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "engine-example")
	defer os.RemoveAll(dir)

	eng, err := engine.New(ctx, engine.Config{
		DB:       filepath.Join(dir, "history.db"),
		CacheDir: dir,
		Ordered:  true, // the seed's order; the default learns from history
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close(ctx)

	c := eng.Classify("page load error net::ERR_CONNECTION_REFUSED")
	fmt.Println(c.ErrorType, c.Strategies)

	choice, ok := eng.NextStrategy(ctx, engine.StrategyQuery{ErrorType: c.ErrorType, RetryCount: 0})
	fmt.Println(choice.Strategy, ok)

	_, err = eng.LogAttempt(ctx, engine.Attempt{ErrorType: c.ErrorType, Strategy: choice.Strategy, Success: true})
	fmt.Println(err)
	_ = eng.Flush(ctx)

	rates, _ := eng.Stats(ctx, c.ErrorType)
	for _, r := range rates {
		fmt.Printf("%s %s %.2f %d\n", r.ErrorType, r.Strategy, r.SuccessRate, r.TotalAttempts)
	}
	// Output:
	// page_load_failure [retry_navigation check_dns use_cached_version]
	// retry_navigation true
	// <nil>
	// page_load_failure retry_navigation 100.00 1
}

// A workflow file is checked completely before any browser starts.
func ExampleLoadWorkflow() {
	_, err := engine.ParseWorkflow([]byte(`name = "w"
start_url = "http://127.0.0.1:8080/"

[[steps]]
action = "click"
`), "flow.toml")
	fmt.Println(err)
	// Output:
	// flow.toml:5: step 1 (click): click needs a target (css, xpath, text, role, label, placeholder or near)
}
