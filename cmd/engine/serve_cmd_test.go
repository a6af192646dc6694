package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCheckBind(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8765", "", true},
		{"127.0.0.2:0", "", true},
		{"[::1]:8765", "", true},
		{"localhost:8765", "", true},
		{"0.0.0.0:8765", "", false},
		{":8765", "", false},
		{"[::]:8765", "", false},
		{"192.168.1.5:8765", "", false},
		{"example.com:8765", "", false},
		{"0.0.0.0:8765", "t", true},
		{"no-port", "t", false},
	} {
		err := checkBind(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("checkBind(%q, %q) = %v", tc.addr, tc.token, err)
		}
		if !tc.ok && tc.token == "" && tc.addr != "no-port" && !errors.Is(err, errNeedToken) {
			t.Errorf("checkBind(%q): %v does not wrap errNeedToken", tc.addr, err)
		}
	}
}

func TestServeRefusals(t *testing.T) {
	t.Setenv("ENGINE_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0:0"}, "token is required"},
		{[]string{"serve", "--addr", "0.0.0.0:0", "--token", ""}, "ENGINE_TOKEN"},
		{[]string{"serve", "--max-sessions", "0"}, "--max-sessions"},
		{[]string{"serve", "--session-idle", "-1s"}, "--session-idle"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
	} {
		var out, errOut strings.Builder
		code := runMain(t.Context(), tc.args, &out, &errOut)
		if code != exitBadInput || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

// The command end to end: it listens, answers with the token, and on
// cancellation (SIGINT/SIGTERM in main) stops and flushes.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ENGINE_TOKEN", "tok")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	pr, pw := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- runMain(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "h.db"),
			"--plugins", filepath.Join("..", "..", "build", "plugins")}, pw, &errOut)
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output; stderr %s", errOut.String())
	}
	m := regexp.MustCompile(`listening on (http://\S+) .*auth bearer token`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("first line %q", lines.Text())
	}
	post := func(token string) int {
		req, _ := http.NewRequest("POST", m[1]+"/v1/attempts", strings.NewReader(`{"error_type": "timeout", "strategy_used": "reload_page", "success": true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("nope"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code := post("tok"); code != http.StatusAccepted {
		t.Errorf("with the token: %d", code)
	}
	// SIGHUP reloads the plugins; nothing changed in their folder.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !lines.Scan() || lines.Text() != "engine serve: plugins reloaded: 0 swapped, 0 rejected, 0 removed" {
		t.Errorf("after SIGHUP: %q", lines.Text())
	}
	stop()
	rest, _ := io.ReadAll(pr)
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(string(rest), "history flushed") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, rest, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	// The attempt logged just before shutdown is in the store.
	var out strings.Builder
	if code := runMain(t.Context(), []string{"stats", "--db", filepath.Join(dir, "h.db")}, &out, io.Discard); code != 0 ||
		!regexp.MustCompile(`timeout\s+\| reload_page\s+\| 100.00\s+\| 1`).MatchString(out.String()) {
		t.Errorf("stats after serve: %d\n%s", code, out.String())
	}
}
