module github.com/selfheal/engine/sdk/go

go 1.24

require github.com/selfheal/engine/abi v0.0.0

// The SDK is built together with the ABI it implements; plugin modules
// outside this repository replace it with a released version.
replace github.com/selfheal/engine/abi => ../../abi
