//go:build unix && !linux

package devserver

import "syscall"

// sysProcAttr puts the dev server in its own process group, so Stop reaches all of it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
