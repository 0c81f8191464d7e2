package devserver

import "syscall"

// sysProcAttr puts the dev server in its own process group, so Stop reaches all of it, and has the
// kernel stop it if the launcher dies without cleaning up (Pdeathsig): no orphan is left.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
