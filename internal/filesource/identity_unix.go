//go:build unix

package filesource

import (
	"io/fs"
	"syscall"
)

// identityOf returns the device and inode of a file, which survive a
// rename and change when a file is replaced.
func identityOf(fi fs.FileInfo) identity {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return identity{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
	}
	return identity{}
}
