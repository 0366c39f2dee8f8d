// Package rules is canhgac's bundled Sigma rule pack for the National Data
// Center: SSH brute force and success after failures, sudo by users outside
// the allowed list, port scans, and DNS lookups and HTTP requests of IOC
// domains. The rules follow the Sigma specification and load with
// detections/sigma.
package rules

import (
	"embed"
	"io/fs"

	"github.com/canhgac/canhgac/detections/sigma"
)

// FS holds the pack: the rules under pack/ and the default placeholder
// configuration under config/.
//
//go:embed pack config
var FS embed.FS

// PlaceholderFile is the path of the default placeholder configuration in
// FS.
const PlaceholderFile = "config/placeholders.yaml"

// Rules returns the rule files of the pack, ready for sigma.LoadFS.
func Rules() fs.FS {
	sub, err := fs.Sub(FS, "pack")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "pack" is valid.
		panic(err)
	}
	return sub
}

// DefaultPlaceholders returns the placeholder values of the pack's default
// configuration (allowed sudo users, IOC domains).
func DefaultPlaceholders() (sigma.Placeholders, error) {
	return sigma.LoadPlaceholders(FS, PlaceholderFile)
}

// Load compiles the pack with the default placeholders overridden by
// extra (which may be nil).
func Load(extra sigma.Placeholders, opts sigma.LoadOptions) (*sigma.Ruleset, *sigma.LoadReport, error) {
	ph, err := DefaultPlaceholders()
	if err != nil {
		return nil, nil, err
	}
	opts.Placeholders = ph.Merge(opts.Placeholders).Merge(extra)
	return sigma.LoadFS(Rules(), opts)
}
