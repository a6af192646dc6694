module github.com/selfheal/engine/host/testdata/gopanic

go 1.24

require (
	github.com/selfheal/engine/abi v0.0.0
	github.com/selfheal/engine/sdk/go v0.0.0
)

replace (
	github.com/selfheal/engine/abi => ../../../abi
	github.com/selfheal/engine/sdk/go => ../../../sdk/go
)
