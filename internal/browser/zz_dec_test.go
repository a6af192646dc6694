package browser

import (
	"encoding/json"
	"os"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/selfheal/engine/abi"
)

func BenchmarkZZDecodeV1(b *testing.B) {
	raw, _ := os.ReadFile("/tmp/snap2000.json")
	for b.Loop() {
		var s abi.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkZZDecodeV2(b *testing.B) {
	raw, _ := os.ReadFile("/tmp/snap2000.json")
	for b.Loop() {
		var s abi.Snapshot
		if err := jsonv2.Unmarshal(raw, &s); err != nil {
			b.Fatal(err)
		}
	}
}
