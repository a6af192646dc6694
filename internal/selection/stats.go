package selection

import "sync"

// Key names a cell of recovery statistics. Empty Host or ActionKind means
// "any": the counters keep every (error type, strategy) pair at four levels,
// overall, per action kind, per host, and per host and action kind.
type Key struct {
	ErrorType  string
	Strategy   string
	Host       string
	ActionKind string
}

// Counts are the outcomes observed in one cell.
type Counts struct {
	Successes uint64
	Total     uint64
}

// Failures returns Total - Successes.
func (c Counts) Failures() uint64 { return c.Total - c.Successes }

// Stats is where the selector reads outcomes from. It is on the path of
// every selection, so implementations answer from memory.
type Stats interface {
	Counts(k Key) Counts
}

// Counters is the in-memory Stats: loaded from the history store at start
// (Add) and kept current as attempts are logged (Record). Safe for
// concurrent use.
type Counters struct {
	mu sync.RWMutex
	m  map[Key]Counts
}

// NewCounters returns empty counters.
func NewCounters() *Counters { return &Counters{m: map[Key]Counts{}} }

// Counts returns the outcomes of one cell.
func (c *Counters) Counts(k Key) Counts {
	c.mu.RLock()
	v := c.m[k]
	c.mu.RUnlock()
	return v
}

// Record counts one attempt of strategy against errorType on host for an
// action of kind actionKind (either may be empty).
func (c *Counters) Record(errorType, strategy, host, actionKind string, success bool) {
	var s uint64
	if success {
		s = 1
	}
	c.Add(errorType, strategy, host, actionKind, Counts{Successes: s, Total: 1})
}

// Add adds observed outcomes at the most specific level and every level
// above it, e.g. a row of history.Store.StrategyCounts.
func (c *Counters) Add(errorType, strategy, host, actionKind string, n Counts) {
	if strategy == "" || n.Total == 0 {
		return // "none left" rows say nothing about a strategy
	}
	keys := [4]Key{
		{errorType, strategy, "", ""},
		{errorType, strategy, "", actionKind},
		{errorType, strategy, host, ""},
		{errorType, strategy, host, actionKind},
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if (i == 1 || i == 3) && actionKind == "" || (i == 2 || i == 3) && host == "" {
			continue
		}
		v := c.m[k]
		v.Successes += n.Successes
		v.Total += n.Total
		c.m[k] = v
	}
}

var _ Stats = (*Counters)(nil)
