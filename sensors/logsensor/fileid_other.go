//go:build !unix

package logsensor

import "io/fs"

// fileID returns zeros where the platform has no inode numbers.
// NOTE: without them a rotation by rename is not detected, only truncation
// and a changed fingerprint are.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

// fileGroupID reports no group where the platform has no Unix groups.
func fileGroupID(fs.FileInfo) (uint32, bool) { return 0, false }

// fileDeleted reports false where link counts are not available.
func fileDeleted(fs.FileInfo) bool { return false }
