package heal

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
)

func TestRunRefusesBadInput(t *testing.T) {
	Register("internal_noop", func(*Call) abi.Result { return Retry("") })
	tests := []struct {
		name, in, panics string
	}{
		{"not json", `{"strategy":`, "not a valid abi.Request"},
		{"unknown strategy", `{"strategy":"nope"}`, `no strategy "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				p, _ := recover().(string)
				if !strings.Contains(p, tt.panics) {
					t.Errorf("panic %q, want it to contain %q", p, tt.panics)
				}
			}()
			run([]byte(tt.in))
		})
	}
}

func TestDescribeListsStrategies(t *testing.T) {
	Register("internal_describe", func(*Call) abi.Result { return Retry("") })
	var d abi.Description
	if err := json.Unmarshal(describe(), &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Strategies, "internal_describe") || !slices.IsSorted(d.Strategies) {
		t.Errorf("describe = %v", d.Strategies)
	}
}
