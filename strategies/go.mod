module github.com/selfheal/engine/strategies

go 1.24

require (
	github.com/selfheal/engine/abi v0.0.0
	github.com/selfheal/engine/sdk/go v0.0.0
)

// The built-in strategies are built together with the ABI and the SDK they
// implement, from source.
replace (
	github.com/selfheal/engine/abi => ../abi
	github.com/selfheal/engine/sdk/go => ../sdk/go
)
