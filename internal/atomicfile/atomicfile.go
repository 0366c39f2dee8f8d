// Package atomicfile replaces files so that a crash or power loss leaves
// either the old or the new content, never a mix: checkpoints, detection
// state, sessions and credentials are written this way.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// TempMarker is part of the name of every temporary file WriteFile
// creates (NAME.tmp*), so a caller can recognise and remove leftovers of
// a crash.
const TempMarker = ".tmp"

// WriteFile replaces path with data and permission perm: it writes a
// temporary file in the same directory, syncs it, renames it over path and
// syncs the directory so that the rename itself is durable.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, name+TempMarker+"*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", tmpName, err))
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(fmt.Errorf("write %s: %w", tmpName, err))
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("sync %s: %w", tmpName, err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
