package heal

import (
	"errors"
	"fmt"

	"github.com/selfheal/engine/abi"
)

// Sentinels for the status codes of abi/ABI.md section 4.1. A *HostError
// matches the one of its status with errors.Is.
var (
	ErrBadRequest  = errors.New("bad_request")
	ErrNotFound    = errors.New("not_found")
	ErrTimeout     = errors.New("timeout")
	ErrUnavailable = errors.New("unavailable")
	ErrFailed      = errors.New("failed")
	ErrNoPending   = errors.New("no_pending")
	ErrTooLarge    = errors.New("too_large")
)

// HostError is a host function's failure: the function ("heal_browser.query"),
// its status code and the host's message from heal_host.last_error.
type HostError struct {
	Func    string
	Status  int32
	Message string
}

func (e *HostError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: %s", e.Func, abi.StatusText(e.Status))
	}
	return fmt.Sprintf("%s: %s: %s", e.Func, abi.StatusText(e.Status), e.Message)
}

// Is matches the sentinel of e's status.
func (e *HostError) Is(target error) bool { return target == statusErr(e.Status) }

func statusErr(status int32) error {
	switch status {
	case abi.StatusBadRequest:
		return ErrBadRequest
	case abi.StatusNotFound:
		return ErrNotFound
	case abi.StatusTimeout:
		return ErrTimeout
	case abi.StatusUnavailable:
		return ErrUnavailable
	case abi.StatusFailed:
		return ErrFailed
	case abi.StatusNoPending:
		return ErrNoPending
	case abi.StatusTooLarge:
		return ErrTooLarge
	}
	return nil
}

// IsNotFound reports whether err says no element matched or nothing could be
// resolved.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsTimeout reports whether err says the operation or the call's deadline
// ran out.
func IsTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// IsUnavailable reports whether err says no browser, resolver or OCR is
// attached to this call.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
