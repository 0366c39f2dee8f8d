package sigma

import "io/fs"

// LoadAll loads the rules of fsys (nil for none) together with rule files
// and folders in paths, as one ruleset: a correlation in one source may
// refer to a rule in the other. It is how a deployment combines the bundled
// pack with its own rules.
func LoadAll(fsys fs.FS, paths []string, opts LoadOptions) (*Ruleset, *LoadReport, error) {
	var files []sourceFile
	if fsys != nil {
		fromFS, err := collectFS(fsys)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, fromFS...)
	}
	fromPaths, err := collectPaths(paths)
	if err != nil {
		return nil, nil, err
	}
	return load(append(files, fromPaths...), opts)
}
