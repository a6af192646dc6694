package resolver

import (
	"context"
	"fmt"

	"github.com/selfheal/engine/abi"
)

// SnapshotSource returns the current page's snapshot; a browser session's
// Snapshot method is one.
type SnapshotSource func(ctx context.Context) (abi.Snapshot, error)

// Service answers the host's resolver capability (heal_resolver.resolve and
// candidates) by resolving against a fresh snapshot of the page.
type Service struct {
	source   SnapshotSource
	resolver *Resolver
}

// NewService returns a service over the snapshot source; a nil resolver
// means Default.
func NewService(src SnapshotSource, r *Resolver) *Service {
	if r == nil {
		r = Default
	}
	return &Service{source: src, resolver: r}
}

func (s *Service) snapshot(ctx context.Context) (*abi.Snapshot, error) {
	if s.source == nil {
		return nil, fmt.Errorf("resolver: no snapshot source: %w", abi.ErrUnavailable)
	}
	snap, err := s.source(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolver: taking a snapshot: %w", err)
	}
	return &snap, nil
}

// Resolve resolves the request's target at its level. Failures wrap
// abi.ErrNotFound and still return the ranked candidates.
func (s *Service) Resolve(ctx context.Context, req abi.ResolveRequest) (abi.Resolution, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return abi.Resolution{}, err
	}
	return s.resolver.ResolveProfile(snap, req.Target, Profile(req.Level), req.Limit)
}

// Candidates ranks the candidates for the request's target without choosing.
func (s *Service) Candidates(ctx context.Context, req abi.ResolveRequest) (abi.Resolution, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return abi.Resolution{}, err
	}
	return s.resolver.Candidates(snap, req.Target, Profile(req.Level), req.Limit)
}
