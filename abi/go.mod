module github.com/selfheal/engine/abi

go 1.24
