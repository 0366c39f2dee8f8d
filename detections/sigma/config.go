package sigma

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed logsources.yaml
var defaultLogsources []byte

//go:embed fieldmap.yaml
var defaultFieldmap []byte

// stringList is a YAML scalar or list of scalars.
type stringList []string

// UnmarshalYAML accepts a scalar or a list of scalars.
func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	v, ok := stringsOf(n)
	if !ok {
		return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
	}
	*l = v
	return nil
}

// logsourceKey is the part of a logsource that routing and field mapping
// are keyed on.
type logsourceKey struct {
	Product  string `yaml:"product"`
	Category string `yaml:"category"`
	Service  string `yaml:"service"`
}

func keyOf(l Logsource) logsourceKey {
	return logsourceKey{
		Product:  strings.ToLower(l.Product),
		Category: strings.ToLower(l.Category),
		Service:  strings.ToLower(l.Service),
	}
}

// covers reports whether every key set in k has the same value in rule.
func (k logsourceKey) covers(rule logsourceKey) bool {
	return (k.Product == "" || k.Product == rule.Product) &&
		(k.Category == "" || k.Category == rule.Category) &&
		(k.Service == "" || k.Service == rule.Service)
}

func (k logsourceKey) specificity() int {
	n := 0
	for _, s := range []string{k.Product, k.Category, k.Service} {
		if s != "" {
			n++
		}
	}
	return n
}

// routeSpec is one way events of a logsource can look: a dataset (a
// trailing * matches a prefix), optional Windows event ids and optional
// field values (any listed value, case-insensitive).
type routeSpec struct {
	Dataset  string                `yaml:"dataset"`
	EventIDs []int64               `yaml:"event_id"`
	Where    map[string]stringList `yaml:"where"`
}

type logsourceEntry struct {
	Logsource logsourceKey `yaml:"logsource"`
	Routes    []routeSpec  `yaml:"routes"`
}

type logsourceFile struct {
	Logsources []logsourceEntry `yaml:"logsources"`
}

type fieldEntry struct {
	Logsource logsourceKey          `yaml:"logsource"`
	Fields    map[string]stringList `yaml:"fields"`
	// Default maps fields without an entry; {field} is replaced by the
	// Sigma field name.
	Default string `yaml:"default"`
}

type fieldmapFile struct {
	Mappings []fieldEntry `yaml:"mappings"`
}

// config is the routing and field mapping tables: the embedded defaults
// followed by user files, which take precedence on equal specificity.
type config struct {
	logsources []logsourceEntry
	fields     []fieldEntry
}

// embeddedConfig parses the embedded tables once; loads copy it.
var embeddedConfig = sync.OnceValues(func() (*config, error) {
	c := &config{}
	if err := c.addLogsources("logsources.yaml (embedded)", defaultLogsources); err != nil {
		return nil, err
	}
	if err := c.addFieldmap("fieldmap.yaml (embedded)", defaultFieldmap); err != nil {
		return nil, err
	}
	return c, nil
})

func loadConfig(logsourceFiles, fieldmapFiles []string) (*config, error) {
	base, err := embeddedConfig()
	if err != nil {
		return nil, err
	}
	c := &config{
		logsources: append([]logsourceEntry(nil), base.logsources...),
		fields:     append([]fieldEntry(nil), base.fields...),
	}
	for _, p := range logsourceFiles {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read logsource file: %w", err)
		}
		if err := c.addLogsources(p, data); err != nil {
			return nil, err
		}
	}
	for _, p := range fieldmapFiles {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read field mapping file: %w", err)
		}
		if err := c.addFieldmap(p, data); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *config) addLogsources(name string, data []byte) error {
	var f logsourceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return newError("sigma.err.config", name, err.Error())
	}
	for i := range f.Logsources {
		e := &f.Logsources[i]
		if e.Logsource.specificity() == 0 || len(e.Routes) == 0 {
			return newError("sigma.err.config_entry", name)
		}
		for _, r := range e.Routes {
			if r.Dataset == "" {
				return newError("sigma.err.config_route", name, fmt.Sprint(e.Logsource))
			}
		}
		e.Logsource = lowerKey(e.Logsource)
	}
	// Later files come first so they win over the defaults.
	c.logsources = append(f.Logsources, c.logsources...)
	return nil
}

func lowerKey(k logsourceKey) logsourceKey {
	return logsourceKey{strings.ToLower(k.Product), strings.ToLower(k.Category), strings.ToLower(k.Service)}
}

func (c *config) addFieldmap(name string, data []byte) error {
	var f fieldmapFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return newError("sigma.err.config", name, err.Error())
	}
	for i := range f.Mappings {
		f.Mappings[i].Logsource = lowerKey(f.Mappings[i].Logsource)
	}
	c.fields = append(f.Mappings, c.fields...)
	return nil
}

// routesFor returns the routes of a rule's logsource: those of the table
// entry with exactly the rule's keys, else the naming convention
// "<product>.<service or category>" (or "<category>", or "<product>.*").
// conventional is true in the second case.
func (c *config) routesFor(l Logsource) (routes []routeSpec, conventional bool) {
	k := keyOf(l)
	for _, e := range c.logsources {
		if e.Logsource == k {
			return e.Routes, false
		}
	}
	var ds string
	switch {
	case k.Product != "" && k.Service != "":
		ds = k.Product + "." + k.Service
	case k.Product != "" && k.Category != "":
		ds = k.Product + "." + k.Category
	case k.Category != "":
		ds = k.Category
	case k.Service != "":
		ds = k.Service
	case k.Product != "":
		ds = k.Product + ".*"
	default:
		ds = "*"
	}
	return []routeSpec{{Dataset: ds}}, true
}

// fieldResolver maps Sigma field names of one logsource to ECS names.
type fieldResolver struct {
	entries []*fieldEntry // applicable entries, most specific first
}

func (c *config) resolverFor(l Logsource) *fieldResolver {
	k := keyOf(l)
	r := &fieldResolver{}
	for i := range c.fields {
		if c.fields[i].Logsource.covers(k) {
			r.entries = append(r.entries, &c.fields[i])
		}
	}
	sort.SliceStable(r.entries, func(i, j int) bool {
		return r.entries[i].Logsource.specificity() > r.entries[j].Logsource.specificity()
	})
	return r
}

// resolve returns the ECS names for a Sigma field: an explicit mapping of
// the most specific entry, else the name itself when it is already dotted,
// else the most specific default pattern, else the name itself.
func (r *fieldResolver) resolve(field string) []string {
	for _, e := range r.entries {
		if names, ok := e.Fields[field]; ok {
			return names
		}
	}
	if strings.Contains(field, ".") {
		return []string{field}
	}
	for _, e := range r.entries {
		if e.Default != "" {
			return []string{strings.ReplaceAll(e.Default, "{field}", field)}
		}
	}
	return []string{field}
}

// Placeholders holds the values of expand placeholders, by name without
// the percent signs.
type Placeholders map[string][]string

type placeholderFile struct {
	Placeholders map[string]yaml.Node `yaml:"placeholders"`
}

// LoadPlaceholders reads a placeholder file from fsys. The file maps each
// name to a list of values or to {file: other} where other (relative to
// the placeholder file) holds one value per line; empty lines and lines
// starting with # are skipped.
func LoadPlaceholders(fsys fs.FS, name string) (Placeholders, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read placeholder file: %w", err)
	}
	var f placeholderFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, newError("sigma.err.config", name, err.Error())
	}
	out := Placeholders{}
	for key, node := range f.Placeholders {
		if node.Kind == yaml.MappingNode {
			file := scalarOf(mapGet(&node, "file"))
			if file == "" {
				return nil, newError("sigma.err.config_placeholder", name, key)
			}
			values, err := readValueLines(fsys, path.Join(path.Dir(name), file))
			if err != nil {
				return nil, newError("sigma.err.config_placeholder_file", name, key, err.Error())
			}
			out[key] = values
			continue
		}
		values, ok := stringsOf(&node)
		if !ok {
			return nil, newError("sigma.err.config_placeholder", name, key)
		}
		out[key] = values
	}
	return out, nil
}

// LoadPlaceholderFile reads a placeholder file from the operating system's
// file system; see LoadPlaceholders.
func LoadPlaceholderFile(name string) (Placeholders, error) {
	dir, file := path.Split(strings.ReplaceAll(name, string(os.PathSeparator), "/"))
	if dir == "" {
		dir = "."
	}
	return LoadPlaceholders(os.DirFS(dir), file)
}

func readValueLines(fsys fs.FS, name string) ([]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// Merge returns the union of p and other; other's values replace p's for
// a name both define.
func (p Placeholders) Merge(other Placeholders) Placeholders {
	out := Placeholders{}
	for k, v := range p {
		out[k] = v
	}
	for k, v := range other {
		out[k] = v
	}
	return out
}
