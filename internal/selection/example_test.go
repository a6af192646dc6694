package selection_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/selfheal/engine/internal/classify"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/history/sqlite"
	"github.com/selfheal/engine/internal/selection"
)

// Wiring the learning loop: counters loaded from the store at start, kept
// current by the recorder as attempts are logged, read by the selector.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store, _ := sqlite.Open(ctx, filepath.Join(dir, "history.db"))
	defer store.Close()
	store.Migrate(ctx)

	classifier, _ := classify.Load("")
	counters := selection.NewCounters()
	cells, _ := store.StrategyCounts(ctx)
	for _, c := range cells {
		counters.Add(c.ErrorType, c.Strategy, c.Host, c.ActionKind,
			selection.Counts{Successes: uint64(c.Successes), Total: uint64(c.Total)})
	}
	rec, _ := history.NewRecorder(store, history.RecorderOptions{
		SpoolPath: filepath.Join(dir, "spool"),
		OnLogged: func(a history.Attempt) {
			counters.Record(a.ErrorType, a.Strategy, a.Host, a.ActionKind, a.Success)
		},
	})
	defer rec.Close(ctx)
	sel := selection.New(classifier, counters, selection.Options{Policy: selection.Thompson, Seed: 1})

	class := classifier.ClassifyMessage("Element #buy not found")
	q := selection.Query{ErrorType: class.Type, Host: "shop.example", ActionKind: "click"}
	first, _ := sel.Next(ctx, q)
	fmt.Println(class.Type, "->", first.Strategy, "by", first.Explain.Policy)

	// wait_longer keeps failing on this site; scroll_into_view works.
	for range 20 {
		rec.Log(history.Attempt{ErrorType: class.Type, Strategy: "wait_longer", Host: "shop.example", ActionKind: "click"})
		rec.Log(history.Attempt{ErrorType: class.Type, Strategy: "scroll_into_view", Success: true, Host: "shop.example", ActionKind: "click"})
	}
	learned, _ := sel.Next(ctx, q)
	fmt.Println(class.Type, "->", learned.Strategy, "by", learned.Explain.Policy)
	// Output:
	// element_not_found -> wait_longer by cold-start
	// element_not_found -> scroll_into_view by thompson
}
