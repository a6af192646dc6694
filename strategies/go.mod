module github.com/selfheal/engine/strategies

go 1.25.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/selfheal/engine/abi v0.0.0
	github.com/selfheal/engine/sdk/go v0.0.0
	github.com/tetratelabs/wazero v1.12.0
)

require golang.org/x/sys v0.44.0 // indirect

// The built-in strategies are built together with the ABI and the SDK they
// implement, from source.
replace (
	github.com/selfheal/engine/abi => ../abi
	github.com/selfheal/engine/sdk/go => ../sdk/go
)
