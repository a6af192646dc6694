#!/usr/bin/env python3
"""A Python agent that uses `engine serve` as its self-healing service.

It runs the seed's loop (execute_action_with_healing) over HTTP with the
standard library only: when its action fails it asks the service to
classify the error, asks for the next recovery strategy, applies it, logs
the attempt, and finally prints the learned success rates.

The action here is fetching a web page with a timeout, so the errors are
real ones ("TimeoutError: timed out", refused connections). Strategies this
agent cannot apply are skipped (passed back as tried) without being logged
as failures, so the service's statistics only count real attempts.

    python3 agent.py --service http://127.0.0.1:8765 --url http://127.0.0.1:8080/ --timeout 0.3

The bearer token, when the service needs one, comes from --token or
$ENGINE_TOKEN. The output is one JSON object: the result, every attempt and
the service's stats for the error types met.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class ServiceError(Exception):
    """The service answered with an error status."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class SelfHealingClient:
    """The seed's SelfHealingService, backed by `engine serve`."""

    def __init__(self, base_url, token=None, timeout=30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            try:
                message = json.loads(err.read()).get("error", err.reason)
            except ValueError:
                message = err.reason
            raise ServiceError(err.code, message) from None
        return json.loads(raw) if raw else None

    def detect_error_type(self, error):
        """Classify an error: (error_type, the pattern's strategies)."""
        c = self._call("POST", "/v1/classify", {"error": str(error)})
        return c["error_type"], c.get("strategies", [])

    def get_recovery_strategy(self, error_type, retry_count, session_id=None, tried=None, host=None, action_kind=None):
        """The next strategy as {"name": ..., **params}, or None when none is left."""
        query = {"error_type": error_type, "retry_count": retry_count}
        for key, value in (("session_id", session_id), ("tried", tried), ("host", host), ("action_kind", action_kind)):
            if value:
                query[key] = value
        choice = self._call("POST", "/v1/strategy/next", query)
        if choice.get("strategy") is None:
            return None
        strategy = dict(choice.get("params") or {})
        strategy["name"] = choice["strategy"]
        return strategy

    def log_recovery_attempt(self, session_id, error_type, error_message, strategy_used, success, retry_count,
                             host=None, action_kind=None, context=None):
        attempt = {"error_type": error_type, "error_message": error_message, "strategy_used": strategy_used,
                   "success": success, "retry_count": retry_count}
        for key, value in (("session_id", session_id), ("host", host), ("action_kind", action_kind),
                           ("context", context)):
            if value:
                attempt[key] = value
        return self._call("POST", "/v1/attempts", attempt)["id"]

    def stats(self, error_type=None):
        path = "/v1/stats"
        if error_type:
            path += "?" + urllib.parse.urlencode({"error_type": error_type})
        return self._call("GET", path)


def describe(error):
    """The error text agents send: the exception's class, then its message."""
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, Exception):
        error = error.reason
    return f"{type(error).__name__}: {error}"


class FetchAction:
    """Fetch a page within a timeout: the agent's browser action."""

    kind = "navigate"

    def __init__(self, url, timeout):
        self.url = url
        self.timeout = timeout

    @property
    def host(self):
        return urllib.parse.urlparse(self.url).netloc

    def perform(self):
        with urllib.request.urlopen(self.url, timeout=self.timeout) as resp:
            return resp.status, len(resp.read())


# Strategies this agent knows how to apply; each returns after changing the
# conditions, and the action is retried.
MAX_PAUSE_S = 2.0


def _longer_timeout(action, strategy):
    action.timeout *= float(strategy.get("multiplier", 2.0))


def _pause(key, default_ms):
    def apply(action, strategy):
        time.sleep(min(float(strategy.get(key, default_ms)) / 1000.0, MAX_PAUSE_S))
    return apply


def _again(action, strategy):
    pass


APPLICABLE = {
    "retry_with_longer_timeout": _longer_timeout,
    "wait_longer": _pause("timeout_ms", 5000),
    "wait_and_retry": _pause("delay_ms", 1000),
    "reload_page": _again,
    "retry_navigation": _again,
    "retry_request": _again,
}


def execute_action_with_healing(service, action, session_id=None, max_retries=3, log=None):
    """The seed's loop: act; on failure classify, pick, apply, log, repeat."""
    log = log if log is not None else []
    try:
        return action.perform(), log
    except Exception as first:  # any failure of the action is a candidate for healing
        error = first
    tried = []
    retry = 0
    while retry < max_retries:
        error_type, _ = service.detect_error_type(describe(error))
        strategy = service.get_recovery_strategy(error_type, retry, session_id=session_id, tried=tried,
                                                 host=action.host, action_kind=action.kind)
        if strategy is None:
            service.log_recovery_attempt(session_id, error_type, describe(error), None, False, retry,
                                         host=action.host, action_kind=action.kind)
            log.append({"error_type": error_type, "strategy": None, "success": False, "retry": retry})
            raise error
        name = strategy["name"]
        tried.append(name)
        apply = APPLICABLE.get(name)
        if apply is None:
            # Not something a page fetcher can do (scrolling, vision, ...).
            log.append({"error_type": error_type, "strategy": name, "skipped": True, "retry": retry})
            continue
        apply(action, strategy)
        started = time.monotonic()
        failure = None
        try:
            result = action.perform()
        except Exception as again:
            result, failure = None, again
        success = failure is None
        service.log_recovery_attempt(session_id, error_type, describe(error), name, success, retry,
                                     host=action.host, action_kind=action.kind,
                                     context={"url": action.url, "timeout_s": action.timeout,
                                              "duration_ms": round((time.monotonic() - started) * 1000, 1)})
        log.append({"error_type": error_type, "strategy": name, "success": success, "retry": retry})
        if success:
            return result, log
        error = failure
        retry += 1
    raise RuntimeError(f"All recovery strategies exhausted after {max_retries} attempts: {describe(error)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--service", default="http://127.0.0.1:8765", help="the engine serve URL")
    p.add_argument("--token", default=os.environ.get("ENGINE_TOKEN"), help="bearer token (default $ENGINE_TOKEN)")
    p.add_argument("--url", required=True, help="the page to fetch")
    p.add_argument("--timeout", type=float, default=1.0, help="the fetch's first timeout, seconds")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--session-id", help="a session id (UUID) to log the attempts under")
    args = p.parse_args(argv)

    service = SelfHealingClient(args.service, args.token)
    action = FetchAction(args.url, args.timeout)
    log = []
    out = {"url": args.url}
    code = 0
    try:
        (status, size), _ = execute_action_with_healing(service, action, args.session_id, args.retries, log)
        out.update(result="ok", status=status, bytes=size)
    except ServiceError as err:
        out.update(result="service_error", error=str(err))
        code = 2
    except Exception as err:
        out.update(result="failed", error=describe(err))
        code = 1
    out["attempts"] = log
    if code != 2:
        types = sorted({a["error_type"] for a in log})
        out["stats"] = [row for t in types for row in service.stats(t)]
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
