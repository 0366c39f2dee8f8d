package sigma

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/canhgac/canhgac/i18n"
)

// LoadOptions configure loading.
type LoadOptions struct {
	// Placeholders fill %name% in values with the expand modifier.
	Placeholders Placeholders
	// LogsourceFiles and FieldMappingFiles extend the embedded routing and
	// field mapping tables; their entries win over the embedded ones.
	LogsourceFiles    []string
	FieldMappingFiles []string
	// Logger receives one line per rejected rule; nil uses slog.Default.
	Logger *slog.Logger
}

// LoadReport lists what a load did.
type LoadReport struct {
	// Loaded counts the rules in the Ruleset: detection, correlation and
	// filter documents.
	Loaded int
	// Rejected lists every rule or document that was not loaded.
	Rejected []Rejection
	// Notes are remarks about loaded rules, for example a logsource that
	// is routed by naming convention only.
	Notes []Rejection
}

// Rejection is a rule that was not loaded (or, in LoadReport.Notes, a
// remark about a loaded one). Reason is the English text of Err.
type Rejection struct {
	Path   string
	ID     string
	Title  string
	Doc    int
	Reason string
	Err    *Error
}

// Message returns the reason in lang.
func (r Rejection) Message(lang i18n.Lang) string {
	if r.Err == nil {
		return r.Reason
	}
	return r.Err.Message(lang)
}

// LoadFiles loads rules from files and folders, walking folders
// recursively for *.yml and *.yaml. It returns an error only for an
// unreadable path or an invalid configuration file. A rule that does not
// compile is left out and listed in the LoadReport.
func LoadFiles(paths []string, opts LoadOptions) (*Ruleset, *LoadReport, error) {
	files, err := collectPaths(paths)
	if err != nil {
		return nil, nil, err
	}
	return load(files, opts)
}

// collectPaths reads the rule files named by paths, walking folders.
func collectPaths(paths []string) ([]sourceFile, error) {
	var files []sourceFile
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("load rules: %w", err)
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("load rules: %w", err)
			}
			files = append(files, sourceFile{path: p, data: data})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isRuleFile(path) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files = append(files, sourceFile{path: path, data: data})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load rules from %s: %w", p, err)
		}
	}
	return files, nil
}

// LoadFS loads every *.yml and *.yaml file of fsys, for example the
// embedded bundled rule pack.
func LoadFS(fsys fs.FS, opts LoadOptions) (*Ruleset, *LoadReport, error) {
	files, err := collectFS(fsys)
	if err != nil {
		return nil, nil, err
	}
	return load(files, opts)
}

// collectFS reads every rule file of fsys.
func collectFS(fsys fs.FS) ([]sourceFile, error) {
	var files []sourceFile
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(path) {
			return nil
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		files = append(files, sourceFile{path: path, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return files, nil
}

// LoadBytes loads rules from one YAML text; name is used as the path in
// reports. It serves tests and rules typed into the console.
func LoadBytes(name string, data []byte, opts LoadOptions) (*Ruleset, *LoadReport, error) {
	return load([]sourceFile{{path: name, data: data}}, opts)
}

type sourceFile struct {
	path string
	data []byte
}

func isRuleFile(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yml" || ext == ".yaml"
}

func load(files []sourceFile, opts LoadOptions) (*Ruleset, *LoadReport, error) {
	cfg, err := loadConfig(opts.LogsourceFiles, opts.FieldMappingFiles)
	if err != nil {
		return nil, nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	rep := &LoadReport{}
	reject := func(r Rejection) {
		r.Reason = r.Err.Error()
		rep.Rejected = append(rep.Rejected, r)
		log.Warn("sigma rule rejected", "path", r.Path, "rule", r.ID, "doc", r.Doc, "reason", r.Reason)
	}
	// rejectedRefs contains the ids and names of rejected rules, so the
	// rejection of a correlation that references one names the cause.
	rejectedRefs := map[string]bool{}
	rejectRule := func(r *Rule, e *Error) {
		for _, ref := range []string{r.ID, r.Name} {
			if ref != "" {
				rejectedRefs[ref] = true
			}
		}
		reject(Rejection{Path: r.Path, ID: r.ID, Title: r.Title, Doc: r.Document, Err: e})
	}
	comp := newCompiler(cfg, opts.Placeholders)
	var candidates, filters []*Rule
	var corrRaw = map[*Rule]*rawRule{}
	for _, f := range files {
		raws, errs := parseDocuments(f.path, f.data)
		for _, de := range errs {
			if de.id != "" {
				rejectedRefs[de.id] = true
			}
			reject(Rejection{Path: f.path, ID: de.id, Doc: de.doc, Err: de.err})
		}
		for _, raw := range raws {
			r := raw.rule
			if raw.filter != nil {
				spec, ferr := comp.parseFilter(r, raw.filter)
				if ferr != nil {
					rejectRule(r, ferr)
					continue
				}
				r.filter = spec
				filters = append(filters, r)
				continue
			}
			if raw.correlation != nil {
				corr, perr := parseCorrelation(raw.correlation)
				if perr != nil {
					rejectRule(r, perr)
					continue
				}
				r.correlation = corr
				corrRaw[r] = raw
				candidates = append(candidates, r)
				continue
			}
			det, derr := comp.compileDetection(r, raw.detection)
			if derr != nil {
				rejectRule(r, derr)
				continue
			}
			r.detection = det
			candidates = append(candidates, r)
		}
	}

	rs := &Ruleset{byRef: map[string]*Rule{}}
	byPath := map[string]string{}
	var accepted []*Rule
	for _, r := range candidates {
		if r.ID != "" {
			if prev, dup := byPath[r.ID]; dup {
				// The earlier rule keeps the id, so references still resolve.
				reject(Rejection{Path: r.Path, ID: r.ID, Title: r.Title, Doc: r.Document, Err: newError("sigma.err.duplicate_id", r.ID, prev)})
				continue
			}
			byPath[r.ID] = r.Path
		}
		accepted = append(accepted, r)
	}
	accepted = resolveCorrelations(accepted, comp, rejectedRefs, rejectRule)
	rep.Notes = append(rep.Notes, applyFilters(filters, accepted, comp)...)
	rs.filters = filters

	for i, r := range accepted {
		r.index = i
		r.generate = true
		rs.rules = append(rs.rules, r)
		if r.ID != "" {
			rs.byRef[r.ID] = r
		}
		if r.Name != "" {
			if _, taken := rs.byRef[r.Name]; !taken {
				rs.byRef[r.Name] = r
			}
		}
		if r.detection != nil && len(r.detection.searches) > rs.memoSz {
			rs.memoSz = len(r.detection.searches)
		}
		for _, f := range r.filters {
			rs.memoSz = max(rs.memoSz, len(f.searches))
		}
	}
	// A referenced rule stays silent unless a consumer sets generate: true.
	for _, r := range rs.rules {
		if len(r.consumers) == 0 {
			continue
		}
		r.generate = false
		for _, c := range r.consumers {
			if c.correlation.generate {
				r.generate = true
			}
		}
	}
	for _, r := range rs.rules {
		if r.correlation != nil {
			rs.correlations = append(rs.correlations, r)
			continue
		}
		specs, conventional := cfg.routesFor(r.Logsource)
		ids := requiredEventIDs(r.detection, comp.slots)
		for _, spec := range specs {
			rt := compileRoute(r, spec)
			if !narrowRoute(&rt, ids) {
				continue
			}
			r.routes = append(r.routes, rt)
		}
		for i := range r.routes {
			rs.index.add(&r.routes[i])
		}
		if conventional {
			note := Rejection{Path: r.Path, ID: r.ID, Title: r.Title, Doc: r.Document,
				Err: newError("sigma.note.route_convention", r.Logsource.String(), specs[0].Dataset)}
			note.Reason = note.Err.Error()
			rep.Notes = append(rep.Notes, note)
		}
	}
	rs.slots = comp.slots
	rep.Loaded = len(rs.rules) + len(rs.filters)
	return rs, rep, nil
}

// resolveCorrelations links correlations to the rules they reference,
// rejects those with missing references or cycles, and returns the rules
// that remain, in their original order.
func resolveCorrelations(rules []*Rule, comp *compiler, rejected map[string]bool, reject func(*Rule, *Error)) []*Rule {
	for {
		refs := map[string]*Rule{}
		for _, r := range rules {
			if r.Name != "" {
				refs[r.Name] = r
			}
		}
		for _, r := range rules {
			if r.ID != "" {
				refs[r.ID] = r
			}
		}
		var bad *Rule
		var badErr *Error
		for _, r := range rules {
			if r.correlation == nil {
				continue
			}
			r.correlation.refs = r.correlation.refs[:0]
			for _, name := range r.correlation.refNames {
				target, ok := refs[name]
				if !ok && rejected[name] {
					bad, badErr = r, newError("sigma.err.corr_rule_rejected", name)
					break
				}
				if !ok {
					bad, badErr = r, newError("sigma.err.corr_rule", name)
					break
				}
				r.correlation.refs = append(r.correlation.refs, target)
			}
			if bad != nil {
				break
			}
		}
		if bad == nil {
			if r, err := findCycle(rules); r != nil {
				bad, badErr = r, err
			}
		}
		if bad == nil {
			break
		}
		reject(bad, badErr)
		kept := rules[:0:0]
		for _, r := range rules {
			if r != bad {
				kept = append(kept, r)
			}
		}
		rules = kept
	}
	for _, r := range rules {
		r.consumers = nil
	}
	for _, r := range rules {
		if r.correlation == nil {
			continue
		}
		r.correlation.compileInputs(comp)
		seen := map[*Rule]bool{}
		for _, target := range r.correlation.refs {
			if !seen[target] {
				target.consumers = append(target.consumers, r)
				seen[target] = true
			}
		}
	}
	return rules
}

func findCycle(rules []*Rule) (*Rule, *Error) {
	const (
		white = iota
		grey
		black
	)
	color := map[*Rule]int{}
	var visit func(r *Rule) *Rule
	visit = func(r *Rule) *Rule {
		color[r] = grey
		if r.correlation != nil {
			for _, t := range r.correlation.refs {
				switch color[t] {
				case grey:
					return r
				case white:
					if c := visit(t); c != nil {
						return c
					}
				}
			}
		}
		color[r] = black
		return nil
	}
	for _, r := range rules {
		if color[r] == white {
			if c := visit(r); c != nil {
				return c, newError("sigma.err.corr_cycle", c.ref())
			}
		}
	}
	return nil, nil
}
