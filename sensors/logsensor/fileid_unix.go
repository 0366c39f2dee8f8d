//go:build unix

package logsensor

import (
	"io/fs"
	"syscall"
)

// fileID returns the device and inode of a file, which identify it across
// renames.
func fileID(fi fs.FileInfo) (dev, ino uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), uint64(st.Ino)
}

// fileGroupID returns the numeric group that owns a file, for the
// permission error text.
func fileGroupID(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Gid, true
}

// fileDeleted reports whether an open file has no name left in the file
// system (its link count is 0).
func fileDeleted(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
