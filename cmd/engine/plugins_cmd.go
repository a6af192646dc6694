package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/seal"
)

func init() {
	commands["plugins"] = command{summary: "list, validate, test and seal strategy plugins", run: runPlugins}
}

const pluginsUsage = `usage: engine plugins SUBCOMMAND
  list [--json] [engine flags]      the loaded plugins: id, version, sha256, strategies, grants, call statistics
  validate DIR|MANIFEST             check a manifest and its module without a running engine
  test DIR --strategy NAME [--url URL --css SELECTOR]
                                    run a strategy once against a Chromium page where an action fails
  seal MANIFEST MODULE              write MODULE's folder/manifest.toml with the module's name and sha256`

func runPlugins(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, pluginsUsage)
		return fmt.Errorf("%w: want a subcommand", errBadInput)
	}
	switch args[0] {
	case "list":
		return pluginsList(ctx, args[1:], stdout, stderr)
	case "validate":
		return pluginsValidate(ctx, args[1:], stdout, stderr)
	case "test":
		return pluginsTest(ctx, args[1:], stdout, stderr)
	case "seal":
		return pluginsSeal(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, pluginsUsage)
		return nil
	}
	fmt.Fprintln(stderr, pluginsUsage)
	return fmt.Errorf("%w: unknown subcommand %q", errBadInput, args[0])
}

func pluginsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugins list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ef engineFlags
	ef.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: plugins list takes no arguments (use --plugins DIR)", errBadInput)
	}
	eng, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))
	ps := eng.Plugins()
	if *asJSON {
		if ps == nil {
			ps = []engine.PluginInfo{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(stdout, "no plugins loaded (give --plugins DIR)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSHA256\tSTRATEGIES\tGRANTS\tCALLS\tFAILED\tP50\tP99\tINSTANCES")
	for _, p := range ps {
		var failed uint64
		for _, n := range p.Stats.Failures {
			failed += n
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%d\n", p.ID, p.Version, p.SHA256[:12],
			strings.Join(p.Strategies, ","), strings.Join(p.Grants, ","), p.Stats.Calls, failed,
			p.Stats.P50, p.Stats.P99, p.Stats.Instances)
	}
	return tw.Flush()
}

// parseInterleaved parses flags that may come after positional arguments
// ("test DIR --strategy NAME") and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// manifestArg accepts a plugin folder or its manifest file.
func manifestArg(arg string) (string, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errBadInput, err)
	}
	if st.IsDir() {
		arg = filepath.Join(arg, "manifest.toml")
		if _, err := os.Stat(arg); err != nil {
			return "", fmt.Errorf("%w: %s is not a plugin folder: %v", errBadInput, filepath.Dir(arg), err)
		}
	}
	return arg, nil
}

// cacheDir is the engine's default compilation cache, so that validating
// a plugin warms the cache the engine will use.
func cacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "selfheal", "wazero")
}

func pluginsValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugins validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: usage: engine plugins validate DIR|MANIFEST", errBadInput)
	}
	path, err := manifestArg(fs.Arg(0))
	if err != nil {
		return err
	}
	info, err := validate(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: plugin %s %s (%s)\n  strategies: %s\n  grants: %s\n", info.ID, info.Version, path,
		strings.Join(info.Strategies, ", "), strings.Join(info.Grants, ", "))
	return nil
}

// validate loads the plugin at manifestPath in a runtime of its own: the
// manifest, checksum, exports, imports against grants, and a first
// instance's ABI version and description. Refusals are bad input naming
// the plugin and the file.
func validate(ctx context.Context, manifestPath string) (engine.PluginInfo, error) {
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(cacheDir()))
	if err != nil {
		return engine.PluginInfo{}, err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	p, err := rt.Load(ctx, manifestPath)
	if err != nil {
		return engine.PluginInfo{}, fmt.Errorf("%w: %w", errBadInput, err)
	}
	defer p.Close(context.WithoutCancel(ctx))
	m := p.Manifest()
	sum := m.SHA256()
	info := engine.PluginInfo{ID: m.ID(), Version: m.Version(), SHA256: fmt.Sprintf("%x", sum[:]), Path: m.Path(), Strategies: m.Strategies()}
	for _, g := range m.Grants() {
		info.Grants = append(info.Grants, string(g))
	}
	return info, nil
}

func pluginsSeal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugins seal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", true, "validate the sealed plugin")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: usage: engine plugins seal MANIFEST MODULE", errBadInput)
	}
	out, err := seal.Seal(pos[0], pos[1])
	if err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", out)
	if !*check {
		return nil
	}
	info, err := validate(ctx, out)
	if err != nil {
		return fmt.Errorf("sealed, but the plugin does not load: %w", err)
	}
	fmt.Fprintf(stdout, "ok: plugin %s %s loads (strategies: %s)\n", info.ID, info.Version, strings.Join(info.Strategies, ", "))
	return nil
}

// testPage is the built-in page of `plugins test`: each element needs a
// kind of healing.
const testPage = `<!doctype html>
<html><head><title>plugin test page</title>
<style>
  #lazy-section { margin-top: 2400px; position: relative; }
  #skeleton { position: absolute; inset: 0; background: #ddd; }
</style></head>
<body>
<h1>Plugin test page</h1>
<p>#late appears 800 ms after load; #lazy is covered by a placeholder until it
has been in view for 150 ms; #gone never exists; "Confirm order" is the text
of #confirm-2 (whose old id was #confirm).</p>
<button id="confirm-2" onclick="document.title='clicked confirm'">Confirm order</button>
<div id="late-host"></div>
<div id="lazy-section">
  <button id="lazy" onclick="document.title='clicked lazy'">Load more</button>
  <div id="skeleton"></div>
</div>
<script>
setTimeout(() => {
  const b = document.createElement('button');
  b.id = 'late'; b.textContent = 'Late button';
  b.onclick = () => { document.title = 'clicked late'; };
  document.getElementById('late-host').appendChild(b);
}, 800);
new IntersectionObserver((es, obs) => {
  if (es.some(e => e.isIntersecting)) {
    setTimeout(() => document.getElementById('skeleton').remove(), 150);
    obs.disconnect();
  }
}).observe(document.getElementById('lazy-section'));
</script>
</body></html>`

// serveTestPage serves testPage on a loopback port until ctx is done.
func serveTestPage(ctx context.Context) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, testPage)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String() + "/", nil
}

func pluginsTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plugins test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strategy := fs.String("strategy", "", "the strategy to run (required)")
	pageURL := fs.String("url", "", "page to test on (default: a built-in local page)")
	action := fs.String("action", abi.ActionClick, "the failing action: click, hover or type")
	value := fs.String("value", "", "text for --action type")
	css := fs.String("css", "", "target CSS selector (default on the built-in page: #late)")
	text := fs.String("text", "", "target text, for strategies that resolve by text")
	timeout := fs.Duration("timeout", 300*time.Millisecond, "the action's timeout before healing starts")
	logLevel := fs.String("log-level", "warn", "log level: trace, debug, info, warn or error")
	asJSON := fs.Bool("json", false, "print the step report as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *strategy == "" {
		return fmt.Errorf("%w: usage: engine plugins test DIR --strategy NAME [--url URL --css SELECTOR]", errBadInput)
	}
	switch *action {
	case abi.ActionClick, abi.ActionHover, abi.ActionType:
	default:
		return fmt.Errorf("%w: --action %q: want click, hover or type", errBadInput, *action)
	}
	if *pageURL != "" && *css == "" && *text == "" {
		return fmt.Errorf("%w: with --url, give the failing action's target with --css or --text", errBadInput)
	}
	if *css == "" && *text == "" {
		*css = "#late"
	}
	level := hclog.LevelFromString(*logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("%w: --log-level %q", errBadInput, *logLevel)
	}
	manifest, err := manifestArg(pos[0])
	if err != nil {
		return err
	}
	folder := filepath.Dir(manifest)

	// A throwaway history store: a test run is not history.
	tmp, err := os.MkdirTemp("", "engine-plugins-test")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	eng, err := engine.New(ctx, engine.Config{DB: filepath.Join(tmp, "history.db"),
		Logger: hclog.New(&hclog.LoggerOptions{Name: "engine", Level: level, Output: stderr})})
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))
	res, err := eng.LoadPlugin(ctx, folder)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	var provided []string
	for _, p := range eng.Plugins() {
		if p.ID == res.PluginID {
			provided = p.Strategies
		}
	}
	if !slices.Contains(provided, *strategy) {
		return fmt.Errorf("%w: plugin %s provides %v, not %q", errBadInput, res.PluginID, provided, *strategy)
	}

	pageCtx, stopPage := context.WithCancel(ctx)
	defer stopPage()
	if *pageURL == "" {
		if *pageURL, err = serveTestPage(pageCtx); err != nil {
			return err
		}
	}
	sess, err := eng.OpenSession(ctx, engine.SessionOptions{Name: "plugins test " + res.PluginID})
	if err != nil {
		return err
	}
	defer sess.Close()
	if nav := sess.Do(ctx, engine.Step{Action: abi.Action{Kind: abi.ActionNavigate, URL: *pageURL, TimeoutMS: 10000}}); nav.Status != "passed" {
		return fmt.Errorf("opening %s: %s", *pageURL, nav.Error)
	}
	step := engine.Step{
		Action: abi.Action{Kind: *action, Value: *value, TimeoutMS: timeout.Milliseconds(),
			Target: &abi.Target{CSS: *css, Text: *text}},
		Retries:    1,
		Strategies: []string{*strategy},
	}
	rep := sess.Do(ctx, step)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printPluginTest(stdout, res.PluginID, *strategy, *pageURL, rep)
	}
	switch {
	case rep.Status != "passed":
		return &exitError{code: exitFailed, err: fmt.Errorf("the action still fails after %s: %s", *strategy, rep.Error)}
	case !rep.Healed:
		return &exitError{code: exitFailed, err: errors.New("the action did not fail, so the strategy never ran: pick a target that needs healing")}
	}
	return nil
}

func printPluginTest(w io.Writer, plugin, strategy, pageURL string, rep engine.StepReport) {
	fmt.Fprintf(w, "plugin %s, strategy %s, page %s\n", plugin, strategy, pageURL)
	if len(rep.Attempts) == 0 {
		fmt.Fprintf(w, "  the action did not fail; nothing to heal (%s)\n", rep.Status)
	}
	for i, a := range rep.Attempts {
		fmt.Fprintf(w, "  attempt %d: error %s, strategy %s -> %s (success %t, %.0f ms)", i+1, a.ErrorType, a.Strategy, a.Outcome, a.Success, a.DurationMS)
		if a.Message != "" {
			fmt.Fprintf(w, ": %s", a.Message)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "step %s", rep.Status)
	if rep.Healed {
		fmt.Fprint(w, " (healed)")
	}
	if rep.Error != "" {
		fmt.Fprintf(w, ": %s", rep.Error)
	}
	fmt.Fprintf(w, " in %.0f ms\n", rep.DurationMS)
}
