package server

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openapi.yaml documents exactly the routes served, each with its method
// and whether it needs the token.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "cmd", "engine", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		documented []string
		open       []string // routes with "security: []"
		path, op   string
		inPaths    bool
	)
	pathRe := regexp.MustCompile(`^  (/\S+):$`)
	opRe := regexp.MustCompile(`^    (get|post|put|patch|delete):$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && line[0] != ' ':
			inPaths = false
		case !inPaths:
		case pathRe.MatchString(line):
			path = pathRe.FindStringSubmatch(line)[1]
		case opRe.MatchString(line):
			op = strings.ToUpper(opRe.FindStringSubmatch(line)[1]) + " " + path
			documented = append(documented, op)
		case strings.TrimSpace(line) == "security: []":
			open = append(open, op)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var served, unauth []string
	for _, rt := range (&Server{}).table() {
		served = append(served, rt.method+" "+rt.path)
		if !rt.auth {
			unauth = append(unauth, rt.method+" "+rt.path)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.yaml documents\n%v\nthe server serves\n%v", documented, served)
	}
	if !slices.Equal(open, unauth) {
		t.Errorf("openapi.yaml says %v need no token; the server: %v", open, unauth)
	}
}
