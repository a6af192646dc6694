package abi

import (
	"context"
	"errors"
)

// Errors that the host-side services behind host functions (browser,
// resolver, vision, DNS) return. The host maps them to status codes with
// StatusOf; services wrap them with %w and add what names the culprit.
var (
	// ErrNotFound: no element matched, or nothing could be resolved.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the service is not attached to this call.
	ErrUnavailable = errors.New("unavailable")
	// ErrBadRequest: the request could not be understood.
	ErrBadRequest = errors.New("bad request")
)

// StatusOf maps an error from a host-side service to the status code a
// host function returns: 0 for nil, StatusNotFound, StatusTimeout,
// StatusUnavailable, StatusBadRequest, or StatusFailed for anything else.
func StatusOf(err error) int32 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrNotFound):
		return StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		return StatusTimeout
	case errors.Is(err, ErrUnavailable):
		return StatusUnavailable
	case errors.Is(err, ErrBadRequest):
		return StatusBadRequest
	}
	return StatusFailed
}
