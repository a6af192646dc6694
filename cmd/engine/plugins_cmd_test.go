package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	engine "github.com/selfheal/engine"
)

// fixtureDir copies the pluginwatch fixture's sources into a plugin folder
// and returns the source manifest and the module.
func fixturePlugin(t *testing.T, folder, grants string) (manifest, module string) {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("..", "..", "internal", "pluginwatch", "testdata", "versioned.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	module = filepath.Join(folder, "versioned.wasm")
	if err := os.WriteFile(module, code, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest = filepath.Join(t.TempDir(), "source.toml")
	src := "id = \"fx\"\nversion = \"1.2.3\"\nabi = \"1.0\"\nstrategies = [\"versioned\"]\ngrants = " + grants + "\n"
	if err := os.WriteFile(manifest, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return manifest, module
}

func TestPluginsCommands(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runMain(t.Context(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	good := filepath.Join(plugins, "fx")
	src, mod := fixturePlugin(t, good, `["log"]`)

	// seal writes the manifest beside the module and checks it loads.
	code, out, errOut := run("plugins", "seal", src, mod)
	if code != 0 || !strings.Contains(out, "wrote "+filepath.Join(good, "manifest.toml")) || !strings.Contains(out, "ok: plugin fx 1.2.3 loads") {
		t.Fatalf("seal: %d %q %q", code, out, errOut)
	}
	// validate takes the folder or the manifest.
	for _, arg := range []string{good, filepath.Join(good, "manifest.toml")} {
		if code, out, errOut := run("plugins", "validate", arg); code != 0 || !strings.Contains(out, "ok: plugin fx 1.2.3") ||
			!strings.Contains(out, "strategies: versioned") {
			t.Errorf("validate %s: %d %q %q", arg, code, out, errOut)
		}
	}

	// list shows the loaded plugin.
	db := filepath.Join(dir, "h.db")
	code, out, errOut = run("plugins", "list", "--json", "--db", db, "--plugins", plugins)
	var infos []engine.PluginInfo
	if code != 0 || json.Unmarshal([]byte(out), &infos) != nil || len(infos) != 1 || infos[0].ID != "fx" ||
		infos[0].Version != "1.2.3" || len(infos[0].SHA256) != 64 || infos[0].Grants[0] != "log" || infos[0].Stats.Instances != 1 {
		t.Fatalf("list --json: %d %q %q", code, out, errOut)
	}
	if code, out, _ := run("plugins", "list", "--db", db, "--plugins", plugins); code != 0 ||
		!strings.Contains(out, "fx") || !strings.Contains(out, infos[0].SHA256[:12]) || !strings.Contains(out, "versioned") {
		t.Fatalf("list: %d %q", code, out)
	}

	// Refusals are bad input naming the plugin, the file and the reason.
	bad := filepath.Join(dir, "bad")
	bsrc, bmod := fixturePlugin(t, bad, `[]`)
	if code, _, errOut := run("plugins", "seal", bsrc, bmod); code != exitBadInput || !strings.Contains(errOut, "does not load") {
		t.Errorf("seal of an ungranted plugin: %d %q", code, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"ungranted", []string{"validate", bad}, []string{`plugin "fx"`, "versioned.wasm", `does not grant "log"`}},
		{"not a plugin folder", []string{"validate", dir}, []string{"not a plugin folder"}},
		{"missing", []string{"validate", filepath.Join(dir, "nope")}, []string{"nope"}},
		{"no subcommand", nil, []string{"want a subcommand"}},
		{"unknown subcommand", []string{"frobnicate"}, []string{`unknown subcommand "frobnicate"`}},
		{"test without strategy", []string{"test", good}, []string{"--strategy"}},
		{"test with a strategy the plugin lacks", []string{"test", good, "--strategy", "nope"}, []string{`not "nope"`}},
		{"seal arguments", []string{"seal", src}, []string{"MANIFEST MODULE"}},
	} {
		code, _, errOut := run(append([]string{"plugins"}, tc.args...)...)
		if code != exitBadInput {
			t.Errorf("%s: exit %d, want %d (%s)", tc.name, code, exitBadInput, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: %q lacks %q", tc.name, errOut, w)
			}
		}
	}
}
