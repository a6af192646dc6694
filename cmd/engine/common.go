package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	engine "github.com/selfheal/engine"
)

// engineFlags are the flags every command that opens an engine takes.
type engineFlags struct {
	db        string
	plugins   stringList
	config    string
	logFormat string
	logLevel  string
	ordered   bool
	seed      int64
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "history store: a SQLite file, or postgres://... (default $DATABASE_URL, else the SQLite file under the user's state directory)")
	fs.Var(&f.plugins, "plugins", "folder of plugin folders (repeatable; default build/plugins when it exists)")
	fs.StringVar(&f.config, "config", "", "TOML file overriding and adding error patterns")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: trace, debug, info, warn or error")
	fs.BoolVar(&f.ordered, "ordered", false, "try strategies in the patterns' order instead of learned order")
	fs.Int64Var(&f.seed, "seed", 0, "seed for strategy sampling (0: random)")
}

func (f *engineFlags) logger(stderr io.Writer) (hclog.Logger, error) {
	level := hclog.LevelFromString(f.logLevel)
	if level == hclog.NoLevel {
		return nil, fmt.Errorf("%w: --log-level %q: want trace, debug, info, warn or error", errBadInput, f.logLevel)
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, fmt.Errorf("%w: --log-format %q: want text or json", errBadInput, f.logFormat)
	}
	return hclog.New(&hclog.LoggerOptions{Name: "engine", Level: level, Output: stderr, JSONFormat: f.logFormat == "json"}), nil
}

func (f *engineFlags) config_(stderr io.Writer) (engine.Config, error) {
	log, err := f.logger(stderr)
	if err != nil {
		return engine.Config{}, err
	}
	dirs := []string(f.plugins)
	if len(dirs) == 0 {
		if st, err := os.Stat(filepath.Join("build", "plugins")); err == nil && st.IsDir() {
			dirs = []string{filepath.Join("build", "plugins")}
		}
	}
	if f.config != "" {
		if _, err := os.Stat(f.config); err != nil {
			return engine.Config{}, fmt.Errorf("%w: --config: %v", errBadInput, err)
		}
	}
	return engine.Config{DB: f.db, PluginDirs: dirs, PatternsFile: f.config, Logger: log, Ordered: f.ordered, Seed: f.seed}, nil
}

// open starts an engine from the flags; configuration errors are bad input.
func (f *engineFlags) open(ctx context.Context, stderr io.Writer) (*engine.Engine, error) {
	cfg, err := f.config_(stderr)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(ctx, cfg)
	if errors.Is(err, engine.ErrConfig) {
		return nil, fmt.Errorf("%w: %w", errBadInput, err)
	}
	return eng, err
}

// parseFlags parses args, turning flag errors into bad input.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	return nil
}
