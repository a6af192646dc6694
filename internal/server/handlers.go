package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"

	engine "github.com/selfheal/engine"
)

// routes builds the API's mux. Every route also answers other methods
// with a JSON 405, and unknown paths with a JSON 404.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(method, path string, h func(http.ResponseWriter, *http.Request) error, auth bool) {
		handler := func(w http.ResponseWriter, r *http.Request) {
			if auth && !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="engine"`)
				writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
			if err := h(w, r); err != nil {
				s.fail(w, r, err)
			}
		}
		mux.HandleFunc(method+" "+path, handler)
		// The method-less pattern is less specific, so it only sees the
		// other methods.
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
		})
	}
	for _, rt := range s.table() {
		route(rt.method, rt.path, rt.h, rt.auth)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	return s.logRequests(mux)
}

// apiRoute is one endpoint; openapi.yaml documents exactly these.
type apiRoute struct {
	method, path string
	h            func(http.ResponseWriter, *http.Request) error
	auth         bool // needs the bearer token when one is set
}

func (s *Server) table() []apiRoute {
	return []apiRoute{
		{http.MethodGet, "/v1/health", s.health, false},
		{http.MethodPost, "/v1/classify", s.classify, true},
		{http.MethodPost, "/v1/strategy/next", s.nextStrategy, true},
		{http.MethodPost, "/v1/attempts", s.logAttempt, true},
		{http.MethodGet, "/v1/stats", s.stats, true},
		{http.MethodGet, "/v1/plugins", s.plugins, true},
		{http.MethodPost, "/v1/sessions", s.createSession, true},
		{http.MethodDelete, "/v1/sessions/{id}", s.deleteSession, true},
		{http.MethodGet, "/v1/sessions/{id}/history", s.sessionHistory, true},
		{http.MethodPost, "/v1/sessions/{id}/act", s.act, true},
		{http.MethodGet, "/v1/sessions/{id}/snapshot", s.snapshot, true},
	}
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// httpError is an error with the status it is answered with.
type httpError struct {
	status int
	msg    string
	err    error // optional cause, for errors.Is
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.err }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// fail answers err: its own status for an httpError, 500 otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeError(w, he.status, he.msg)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// errEmptyBody is decode's error for a request without a body.
var errEmptyBody = errors.New("empty body")

// decode reads one JSON object into v: size-limited, unknown fields and
// trailing data refused. Errors are 400 (413 for an oversized body) and
// name the offending field when there is one.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			return errorf(http.StatusBadRequest, "request body: want one JSON object, found more after it")
		}
		return nil
	}
	var (
		maxErr  *http.MaxBytesError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
		timeErr *time.ParseError
	)
	switch {
	case errors.Is(err, io.EOF):
		return &httpError{status: http.StatusBadRequest, msg: "request body: empty; want a JSON object", err: errEmptyBody}
	case errors.As(err, &maxErr):
		return errorf(http.StatusRequestEntityTooLarge, "request body: larger than %d bytes", maxErr.Limit)
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "request body: invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return errorf(http.StatusBadRequest, "%s: want %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case errors.As(err, &typeErr):
		return errorf(http.StatusBadRequest, "request body: want a JSON object, got JSON %s", typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		return errorf(http.StatusBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.As(err, &timeErr):
		// created_at is the only time any request carries.
		return errorf(http.StatusBadRequest, "created_at: want an RFC 3339 time, got %q", timeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request body: truncated JSON")
	}
	return errorf(http.StatusBadRequest, "request body: %v", err)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true, "store": s.eng.Store(), "plugins": len(s.eng.Plugins()), "sessions": s.Sessions(),
	})
	return nil
}

type classifyRequest struct {
	Error string `json:"error"`
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) error {
	var req classifyRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Error) == "" {
		return errorf(http.StatusBadRequest, "error: required, the error text to classify")
	}
	c := s.eng.Classify(req.Error)
	if c.Strategies == nil {
		c.Strategies = []string{}
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// strategyResponse is StrategyChoice with a null strategy when none is left.
type strategyResponse struct {
	Strategy *string         `json:"strategy"`
	Params   json.RawMessage `json:"params,omitempty"`
	Explain  string          `json:"explain,omitempty"`
}

func (s *Server) nextStrategy(w http.ResponseWriter, r *http.Request) error {
	var q engine.StrategyQuery
	if err := s.decode(w, r, &q); err != nil {
		return err
	}
	switch {
	case q.ErrorType == "":
		return errorf(http.StatusBadRequest, "error_type: required")
	case q.RetryCount < 0:
		return errorf(http.StatusBadRequest, "retry_count: %d is negative", q.RetryCount)
	case q.SessionID != "" && !isUUID(q.SessionID):
		return errorf(http.StatusBadRequest, "session_id: %q is not a UUID", q.SessionID)
	}
	c, ok := s.eng.NextStrategy(r.Context(), q)
	if !ok {
		writeJSON(w, http.StatusOK, strategyResponse{})
		return nil
	}
	writeJSON(w, http.StatusOK, strategyResponse{Strategy: &c.Strategy, Params: c.Params, Explain: c.Explain})
	return nil
}

// attemptRequest is engine.Attempt as sent: success is required, so it is
// a pointer here.
type attemptRequest struct {
	ID           string          `json:"id"`
	SessionID    string          `json:"session_id"`
	ErrorType    string          `json:"error_type"`
	ErrorMessage string          `json:"error_message"`
	Strategy     *string         `json:"strategy_used"`
	Success      *bool           `json:"success"`
	RetryCount   int             `json:"retry_count"`
	Host         string          `json:"host"`
	ActionKind   string          `json:"action_kind"`
	Context      json.RawMessage `json:"context"`
	CreatedAt    *time.Time      `json:"created_at"`
}

func (s *Server) logAttempt(w http.ResponseWriter, r *http.Request) error {
	var req attemptRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.ErrorType == "":
		return errorf(http.StatusBadRequest, "error_type: required")
	case req.Success == nil:
		return errorf(http.StatusBadRequest, "success: required, true or false")
	case req.RetryCount < 0:
		return errorf(http.StatusBadRequest, "retry_count: %d is negative", req.RetryCount)
	case req.ID != "" && !isUUID(req.ID):
		return errorf(http.StatusBadRequest, "id: %q is not a UUID", req.ID)
	case req.SessionID != "" && !isUUID(req.SessionID):
		return errorf(http.StatusBadRequest, "session_id: %q is not a UUID", req.SessionID)
	case len(req.Context) > 0 && string(req.Context) != "null" && req.Context[0] != '{':
		return errorf(http.StatusBadRequest, "context: want a JSON object")
	}
	a := engine.Attempt{ID: req.ID, SessionID: req.SessionID, ErrorType: req.ErrorType, ErrorMessage: req.ErrorMessage,
		Success: *req.Success, RetryCount: req.RetryCount, Host: req.Host, ActionKind: req.ActionKind}
	if req.Strategy != nil {
		a.Strategy = *req.Strategy
	}
	if len(req.Context) > 0 && string(req.Context) != "null" {
		a.Context = req.Context
	}
	if req.CreatedAt != nil {
		a.CreatedAt = *req.CreatedAt
	}
	logged, err := s.eng.LogAttempt(r.Context(), a)
	if errors.Is(err, engine.ErrBadAttempt) {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": logged.ID})
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.eng.Stats(r.Context(), r.URL.Query().Get("error_type"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

// pluginResponse is engine.PluginInfo with its call statistics in
// snake_case and milliseconds (host.Stats has no JSON names of its own).
type pluginResponse struct {
	ID         string      `json:"id"`
	Version    string      `json:"version"`
	SHA256     string      `json:"sha256"`
	Path       string      `json:"path"`
	Strategies []string    `json:"strategies"`
	Grants     []string    `json:"grants"`
	Stats      pluginStats `json:"stats"`
}

type pluginStats struct {
	Calls     uint64            `json:"calls"`
	Failures  map[string]uint64 `json:"failures"`
	MeanMS    float64           `json:"mean_ms"`
	P50MS     float64           `json:"p50_ms"`
	P90MS     float64           `json:"p90_ms"`
	P99MS     float64           `json:"p99_ms"`
	Instances int               `json:"instances"`
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *Server) plugins(w http.ResponseWriter, r *http.Request) error {
	out := []pluginResponse{}
	for _, p := range s.eng.Plugins() {
		st := p.Stats
		if st.Failures == nil {
			st.Failures = map[string]uint64{}
		}
		if p.Grants == nil {
			p.Grants = []string{}
		}
		out = append(out, pluginResponse{ID: p.ID, Version: p.Version, SHA256: p.SHA256, Path: p.Path,
			Strategies: p.Strategies, Grants: p.Grants, Stats: pluginStats{Calls: st.Calls, Failures: st.Failures,
				MeanMS: millis(st.Mean), P50MS: millis(st.P50), P90MS: millis(st.P90), P99MS: millis(st.P99), Instances: st.Instances}})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createSessionRequest struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Viewport string `json:"viewport"`
}

// createSessionResponse is the new session, with the report of its first
// navigation when a url was given.
type createSessionResponse struct {
	ID         string             `json:"id"`
	Navigation *engine.StepReport `json:"navigation,omitempty"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var req createSessionRequest
	// The body is optional here: no body opens a blank 1280x800 tab.
	if err := s.decode(w, r, &req); err != nil && !errors.Is(err, errEmptyBody) {
		return err
	}
	opts := engine.SessionOptions{Name: req.Name}
	if req.Viewport != "" {
		var err error
		if opts.Width, opts.Height, err = parseViewport(req.Viewport); err != nil {
			return errorf(http.StatusBadRequest, "viewport: %v", err)
		}
	}
	if req.URL != "" && !strings.HasPrefix(req.URL, "http://") && !strings.HasPrefix(req.URL, "https://") {
		return errorf(http.StatusBadRequest, "url: %q is not an http or https URL", req.URL)
	}

	// Reserve the slot before the slow open so concurrent creates cannot
	// exceed MaxSessions.
	reserved := &session{lastUsed: time.Now()}
	reserved.busy.Lock()
	key := fmt.Sprintf("pending-%p", reserved)
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return errorf(http.StatusServiceUnavailable, "%v", errSessionsClosed)
	case len(s.sessions) >= s.opts.MaxSessions:
		s.mu.Unlock()
		return errorf(http.StatusTooManyRequests, "%d sessions are open, the limit; close one first", s.opts.MaxSessions)
	}
	s.sessions[key] = reserved
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		delete(s.sessions, key)
		s.mu.Unlock()
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ActTimeout)
	defer cancel()
	es, err := s.eng.OpenSession(ctx, opts)
	if err != nil {
		release()
		return err
	}
	resp := createSessionResponse{ID: es.ID}
	if req.URL != "" {
		rep := es.Do(ctx, engine.Step{Action: abi.Action{Kind: abi.ActionNavigate, URL: req.URL}})
		if rep.Status != "passed" {
			release()
			_ = es.Close()
			writeJSON(w, http.StatusBadGateway, map[string]any{
				"error": fmt.Sprintf("url: opening %s failed: %s", req.URL, rep.Error), "navigation": rep,
			})
			return nil
		}
		resp.Navigation = &rep
	}
	s.mu.Lock()
	reserved.s = es
	delete(s.sessions, key)
	if s.closed {
		s.mu.Unlock()
		_ = es.Close()
		return errorf(http.StatusServiceUnavailable, "%v", errSessionsClosed)
	}
	reserved.lastUsed = time.Now()
	s.sessions[es.ID] = reserved
	s.mu.Unlock()
	reserved.busy.Unlock()
	s.log.Info("session opened", "session", es.ID)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// acquire returns the open session named in the path, locked for this
// request; release unlocks it.
func (s *Server) acquire(r *http.Request) (ss *session, release func(), err error) {
	id := r.PathValue("id")
	s.mu.Lock()
	ss, ok := s.sessions[id]
	if ok && ss.s != nil {
		ss.lastUsed = time.Now()
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return nil, nil, errorf(http.StatusNotFound, "no open session %q", id)
	}
	if !ss.busy.TryLock() {
		return nil, nil, errorf(http.StatusConflict, "session %s is running another request; retry when it is done", id)
	}
	return ss, func() {
		s.mu.Lock()
		ss.lastUsed = time.Now()
		s.mu.Unlock()
		ss.busy.Unlock()
	}, nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	ss, release, err := s.acquire(r)
	if err != nil {
		return err
	}
	defer release()
	s.mu.Lock()
	delete(s.sessions, ss.s.ID)
	s.mu.Unlock()
	if err := ss.s.Close(); err != nil {
		return err
	}
	s.log.Info("session closed", "session", ss.s.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionHistory reads the history store, so it also answers for sessions
// already closed.
func (s *Server) sessionHistory(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !isUUID(id) {
		return errorf(http.StatusBadRequest, "id: %q is not a session id (a UUID)", id)
	}
	rows, err := s.eng.History(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

// actRequest is an action with the step options of engine.Step.
type actRequest struct {
	abi.Action
	Key        string   `json:"key"`
	Retries    int      `json:"retries"`
	Strategies []string `json:"strategies"`
	URLPattern string   `json:"url_pattern"`
}

// needsTarget lists the action kinds that act on an element.
var needsTarget = map[string]bool{
	abi.ActionClick: true, abi.ActionType: true, abi.ActionHover: true, abi.ActionSelect: true, abi.ActionWaitFor: true,
}

func (req *actRequest) step() (engine.Step, error) {
	a := req.Action
	switch a.Kind {
	case "":
		return engine.Step{}, errorf(http.StatusBadRequest, "kind: required")
	case abi.ActionNavigate, abi.ActionClick, abi.ActionType, abi.ActionPress, abi.ActionHover, abi.ActionSelect,
		abi.ActionWaitFor, abi.ActionAssertText, abi.ActionAssertURL:
	default:
		return engine.Step{}, errorf(http.StatusBadRequest, "kind: unknown action %q", a.Kind)
	}
	switch {
	case needsTarget[a.Kind] && (a.Target == nil || *a.Target == abi.Target{}):
		return engine.Step{}, errorf(http.StatusBadRequest, "target: required for %s (css, xpath, text, role, label, placeholder or near)", a.Kind)
	case a.Kind == abi.ActionNavigate && a.URL == "":
		return engine.Step{}, errorf(http.StatusBadRequest, "url: required for navigate")
	case (a.Kind == abi.ActionSelect || a.Kind == abi.ActionPress || a.Kind == abi.ActionAssertText) && a.Value == "":
		return engine.Step{}, errorf(http.StatusBadRequest, "value: required for %s", a.Kind)
	case a.Kind == abi.ActionAssertURL && a.URL == "" && req.URLPattern == "":
		return engine.Step{}, errorf(http.StatusBadRequest, "url or url_pattern: required for assert_url")
	case a.TimeoutMS < 0:
		return engine.Step{}, errorf(http.StatusBadRequest, "timeout_ms: %d is negative", a.TimeoutMS)
	case req.Retries < 0:
		return engine.Step{}, errorf(http.StatusBadRequest, "retries: %d is negative", req.Retries)
	}
	st := engine.Step{Action: a, Key: req.Key, Retries: req.Retries, Strategies: req.Strategies}
	if req.URLPattern != "" {
		re, err := regexp.Compile(req.URLPattern)
		if err != nil {
			return engine.Step{}, errorf(http.StatusBadRequest, "url_pattern: %v", err)
		}
		st.URLPattern = re
	}
	return st, nil
}

func (s *Server) act(w http.ResponseWriter, r *http.Request) error {
	var req actRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	st, err := req.step()
	if err != nil {
		return err
	}
	ss, release, err := s.acquire(r)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ActTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, ss.s.Do(ctx, st))
	return nil
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) error {
	ss, release, err := s.acquire(r)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	snap, err := ss.s.Snapshot(ctx)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, snap)
	return nil
}

// parseViewport reads "WIDTHxHEIGHT".
func parseViewport(v string) (int, int, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(v), "x")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT, e.g. 1280x800", v)
	}
	wd, werr := strconv.Atoi(ws)
	ht, herr := strconv.Atoi(hs)
	if werr != nil || herr != nil || wd < 100 || ht < 100 || wd > 10000 || ht > 10000 {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT with each side from 100 to 10000", v)
	}
	return wd, ht, nil
}

// isUUID reports whether id is a UUID in its 36-character text form, the
// form the history store uses for ids.
func isUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
