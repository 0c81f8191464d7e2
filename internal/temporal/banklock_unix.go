//go:build unix

package temporal

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock(2) on f, waiting for another process to let go of it; closing
// f lets go of it.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}
