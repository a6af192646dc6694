package history

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"
)

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// SpoolPath is the durable spool file (required). Attempts the
	// database cannot take wait there, and are replayed from there after a
	// restart.
	SpoolPath string
	// QueueSize bounds the in-memory queue (default 4096); when it is full
	// Log writes to the spool instead of waiting.
	QueueSize int
	// BatchSize is the most attempts written at once (default 500).
	BatchSize int
	// FlushInterval is how long an attempt may wait for its batch to fill
	// (default 100 ms).
	FlushInterval time.Duration
	// RetryInterval is how often the spool is replayed while the database
	// is unreachable (default 1 s).
	RetryInterval time.Duration
	// WriteTimeout bounds one database write (default 10 s).
	WriteTimeout time.Duration
	// OnLogged sees every attempt as it is logged, before it is written;
	// the engine updates the selector's counters here. It must be fast.
	OnLogged func(Attempt)
	// OnError is told about write failures (once per outage) and corrupt
	// spool bytes (*SpoolCorruptError). Default: the standard logger.
	OnError func(error)
}

// Recorder writes attempts to a Store asynchronously, in batches, without
// ever blocking the caller on the database and without losing attempts
// while the database is unreachable.
//
// Durability: Log acknowledges that an attempt is queued; Flush returning
// nil acknowledges that every attempt logged before it is in the database
// or fsync'd to the spool, and so survives a crash.
type Recorder struct {
	store Store
	opts  RecorderOptions
	spool *spool

	queue   chan Attempt
	flushes chan chan error
	stop    chan struct{}
	done    chan struct{}

	// mu orders Log against Close: once closed is set under the write
	// lock no Log can queue an attempt that nobody would write.
	mu     sync.RWMutex
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// ErrClosed is returned by Log after Close.
var ErrClosed = errors.New("history: recorder closed")

// NewRecorder opens the spool and starts the writer goroutine. Attempts
// left in the spool by an earlier run are replayed first.
func NewRecorder(store Store, opts RecorderOptions) (*Recorder, error) {
	if opts.SpoolPath == "" {
		return nil, fmt.Errorf("history: recorder needs a spool path")
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 100 * time.Millisecond
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.OnError == nil {
		opts.OnError = func(err error) { log.Printf("history recorder: %v", err) }
	}
	sp, err := openSpool(opts.SpoolPath)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		store:   store,
		opts:    opts,
		spool:   sp,
		queue:   make(chan Attempt, opts.QueueSize),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go r.run()
	return r, nil
}

// Log queues an attempt and returns it with its ID and time filled in. It
// never waits for the database: with the queue full the attempt goes to
// the spool. It fails only for an invalid attempt, a spool write error, or
// after Close.
func (r *Recorder) Log(a Attempt) (Attempt, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	// Both databases keep microseconds.
	a.CreatedAt = a.CreatedAt.UTC().Truncate(time.Microsecond)
	if err := a.Validate(); err != nil {
		return a, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return a, ErrClosed
	}
	if r.opts.OnLogged != nil {
		r.opts.OnLogged(a)
	}
	select {
	case r.queue <- a:
		return a, nil
	default:
		return a, r.spool.append([]Attempt{a})
	}
}

// Flush writes everything logged so far to the database, or to the spool
// when the database cannot take it, and tries to replay the spool.
func (r *Recorder) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case r.flushes <- reply:
	case <-r.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain flushes and then waits until the spool is empty too: every attempt
// is in the database. It returns ctx's error if the database stays away.
func (r *Recorder) Drain(ctx context.Context) error {
	for {
		if err := r.Flush(ctx); err != nil {
			return err
		}
		if r.spool.bytes() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("history: %d bytes still spooled: %w", r.spool.bytes(), ctx.Err())
		case <-time.After(min(r.opts.RetryInterval, 100*time.Millisecond)):
		}
	}
}

// SpoolBytes returns the size of the spool: 0 when the database has
// everything that was flushed.
func (r *Recorder) SpoolBytes() int64 { return r.spool.bytes() }

// Close flushes, makes one last attempt to replay the spool, and stops the
// writer. Attempts the database could not take stay in the spool for the
// next run.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		flushErr := r.Flush(ctx)
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.stop)
		<-r.done
		// Whatever was queued after the writer's last drain.
		var rest []Attempt
		for len(r.queue) > 0 {
			rest = append(rest, <-r.queue)
		}
		var err error
		if len(rest) > 0 {
			err = r.spool.append(rest)
		}
		r.closeErr = errors.Join(flushErr, err, r.spool.close())
	})
	return r.closeErr
}

func (r *Recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	var batch []Attempt
	var lastReplay time.Time
	down := false // reported the current outage already

	// write stores a batch, or spools it. While the spool holds anything,
	// new batches join it so the database sees attempts in order.
	write := func(as []Attempt) error {
		if len(as) == 0 {
			return nil
		}
		if r.spool.bytes() == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), r.opts.WriteTimeout)
			_, err := r.store.AppendAttempts(ctx, as)
			cancel()
			if err == nil {
				down = false
				return nil
			}
			if !down {
				r.opts.OnError(fmt.Errorf("writing %d attempts, spooling them: %w", len(as), err))
				down = true
			}
		}
		return r.spool.append(as)
	}
	replay := func() error {
		lastReplay = time.Now()
		if r.spool.bytes() == 0 {
			return nil
		}
		as, bad, end, err := r.spool.read()
		if err != nil {
			return err
		}
		for len(as) > 0 {
			n := min(len(as), r.opts.BatchSize)
			ctx, cancel := context.WithTimeout(context.Background(), r.opts.WriteTimeout)
			_, err := r.store.AppendAttempts(ctx, as[:n])
			cancel()
			if err != nil {
				return nil // still down; the spool keeps everything
			}
			as = as[n:]
		}
		down = false
		for _, b := range bad {
			ce := &SpoolCorruptError{Path: r.spool.path, Offset: b.off, Length: int64(len(b.data))}
			name, err := r.spool.quarantine(b)
			if err != nil {
				r.opts.OnError(ce)
				return err // keep the bytes in the spool rather than lose them
			}
			ce.Quarantine = name
			r.opts.OnError(ce)
		}
		return r.spool.dropPrefix(end)
	}
	drain := func() error {
		var errs []error
		for {
			select {
			case a := <-r.queue:
				batch = append(batch, a)
				if len(batch) >= r.opts.BatchSize {
					errs = append(errs, write(batch))
					batch = nil
				}
				continue
			default:
			}
			break
		}
		errs = append(errs, write(batch))
		batch = nil
		return errors.Join(errs...)
	}

	if err := replay(); err != nil {
		r.opts.OnError(err)
	}
	for {
		select {
		case a := <-r.queue:
			batch = append(batch, a)
			if len(batch) >= r.opts.BatchSize {
				if err := write(batch); err != nil {
					r.opts.OnError(err)
				}
				batch = nil
			}
		case <-tick.C:
			if err := write(batch); err != nil {
				r.opts.OnError(err)
			}
			batch = nil
			if r.spool.bytes() > 0 && time.Since(lastReplay) >= r.opts.RetryInterval {
				if err := replay(); err != nil {
					r.opts.OnError(err)
				}
			}
		case reply := <-r.flushes:
			err := drain()
			if err == nil {
				err = replay()
			}
			reply <- err
		case <-r.stop:
			if err := drain(); err != nil {
				r.opts.OnError(err)
			}
			return
		}
	}
}
