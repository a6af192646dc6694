//go:build unix

package browser

import "syscall"

var syscall0 = syscall.Signal(0)
