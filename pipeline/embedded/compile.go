package embedded

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/pipeline/kql"
)

// compiler turns a KQL tree into a SQL condition over the events table.
// Values are always bound parameters. A condition may be NULL where kql.Match
// is false; Not maps NULL to false before negating.
type compiler struct {
	args    []any
	spilled map[string]bool
}

func (c *compiler) bind(v any) string {
	c.args = append(c.args, v)
	return "?"
}

var v4lo, v4hi = func() ([16]byte, [16]byte) {
	p, _ := kql.ParseIPRange("0.0.0.0/0")
	return kql.PrefixBounds(p)
}()

// stringColumns are the keyword columns that free text searches.
var stringColumns = func() []string {
	cols := []string{"id", "source_id"}
	for _, c := range promoted {
		if c.kind == colString {
			cols = append(cols, c.name)
		}
	}
	return cols
}()

func (c *compiler) compile(n kql.Node) (string, error) {
	switch n := n.(type) {
	case kql.MatchAll:
		return "1", nil
	case *kql.And:
		return c.join(n.Terms, " AND ")
	case *kql.Or:
		return c.join(n.Terms, " OR ")
	case *kql.Not:
		inner, err := c.compile(n.Term)
		if err != nil {
			return "", err
		}
		return "NOT coalesce((" + inner + "), 0)", nil
	case *kql.Exists:
		if kql.IsFieldPattern(n.Field) {
			return c.fallback(n), nil
		}
		return c.exists(n.Field), nil
	case *kql.Is:
		if n.Field == "" {
			return c.freeText(n), nil
		}
		if kql.IsFieldPattern(n.Field) {
			return c.fallback(n), nil
		}
		return c.is(n), nil
	case *kql.Range:
		if kql.IsFieldPattern(n.Field) {
			return c.fallback(n), nil
		}
		return c.rangeCond(n), nil
	}
	return "", fmt.Errorf("unsupported KQL node %T", n)
}

func (c *compiler) join(terms []kql.Node, op string) (string, error) {
	parts := make([]string, len(terms))
	for i, t := range terms {
		s, err := c.compile(t)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + s + ")"
	}
	return strings.Join(parts, op), nil
}

// fallback evaluates the node with kql.Match on every candidate row.
func (c *compiler) fallback(n kql.Node) string {
	return "kql_match(" + c.bind(n.String()) + ", " + eventColumns + ")"
}

// docPath is the SQLite JSON path of a flat document key.
func docPath(field string) (string, bool) {
	if strings.ContainsAny(field, `"\`) {
		return "", false
	}
	return `$."` + field + `"`, true
}

// withSpill adds the document condition for a promoted field that some
// event stored in its document.
func (c *compiler) withSpill(field, colCond string, doc func(path string) string) string {
	if !c.spilled[field] {
		return colCond
	}
	path, _ := docPath(field)
	return "(" + colCond + ") OR (" + doc(path) + ")"
}

func (c *compiler) exists(field string) string {
	switch field {
	case "@timestamp", "event.id":
		return "1"
	case "canhgac.source_id":
		return "source_id IS NOT NULL"
	case "event.sequence":
		return "seq IS NOT NULL"
	}
	if col, ok := promotedByField[field]; ok {
		return c.withSpill(field, col.name+" IS NOT NULL", func(p string) string { return c.docExists(field, p) })
	}
	path, ok := docPath(field)
	if !ok {
		return c.fallback(&kql.Exists{Field: field})
	}
	return c.docExists(field, path)
}

func (c *compiler) docExists(field, path string) string {
	each := "EXISTS (SELECT 1 FROM json_each(doc, " + c.bind(path) + ") WHERE "
	switch kql.TypeOf(field) {
	case kql.IP:
		return each + "type = 'text' AND kql_ip(value) IS NOT NULL)"
	case kql.Date:
		return each + "type = 'text' AND kql_time(value) IS NOT NULL)"
	}
	return each + "type != 'null')"
}

func globPattern(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range p {
			switch r {
			case '*', '?', '[':
				b.WriteByte('[')
				b.WriteRune(r)
				b.WriteByte(']')
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// keywordColumn compares a keyword string column with a value.
func (c *compiler) keywordColumn(col string, v kql.Value) string {
	if v.Wildcard() {
		return col + " GLOB " + c.bind(globPattern(v.Parts))
	}
	return col + " = " + c.bind(v.Text)
}

func (c *compiler) is(n *kql.Is) string {
	v := n.Value
	switch n.Field {
	case "@timestamp":
		t, ok := kql.ParseDate(v.Text)
		if !ok || v.Wildcard() {
			return "0"
		}
		return "ts = " + c.bind(t.UnixNano())
	case "event.id":
		return c.keywordColumn("id", v)
	case "canhgac.source_id":
		return c.keywordColumn("source_id", v)
	case "event.sequence":
		f, err := strconv.ParseFloat(v.Text, 64)
		if err != nil || v.Wildcard() {
			return "0"
		}
		return "seq = " + c.bind(f)
	}
	if col, ok := promotedByField[n.Field]; ok {
		switch col.kind {
		case colString:
			return c.withSpill(n.Field, c.keywordColumn(col.name, v), func(p string) string { return c.docIs(n.Field, p, v) })
		case colIP:
			p, ok := kql.ParseIPRange(v.Text)
			if !ok || v.Wildcard() {
				return "0"
			}
			return c.withSpill(n.Field, c.ipIn(col.name, p), func(path string) string { return c.docIs(n.Field, path, v) })
		case colText:
			return c.withSpill(n.Field, c.text([]string{col.name}, v), func(string) string { return c.fallback(n) })
		}
	}
	path, ok := docPath(n.Field)
	if !ok {
		return c.fallback(n)
	}
	return c.docIs(n.Field, path, v)
}

// ipIn tests a 16-byte address expression against a prefix. An IPv6
// prefix excludes the IPv4-mapped block, because kql.Match never puts an
// IPv4 address in an IPv6 range.
func (c *compiler) ipIn(expr string, p netip.Prefix) string {
	lo, hi := kql.PrefixBounds(p)
	cond := expr + " BETWEEN " + c.bind(lo[:]) + " AND " + c.bind(hi[:])
	if !p.Addr().Is4() {
		cond += " AND NOT (" + expr + " BETWEEN " + c.bind(v4lo[:]) + " AND " + c.bind(v4hi[:]) + ")"
	}
	return cond
}

// docIs compares a document field with a value under kql.Match's rules.
func (c *compiler) docIs(field, path string, v kql.Value) string {
	each := "EXISTS (SELECT 1 FROM json_each(doc, " + c.bind(path) + ") WHERE "
	switch kql.TypeOf(field) {
	case kql.IP:
		p, ok := kql.ParseIPRange(v.Text)
		if !ok || v.Wildcard() {
			return "0"
		}
		return each + "type = 'text' AND " + c.ipIn("kql_ip(value)", p) + ")"
	case kql.Date:
		t, ok := kql.ParseDate(v.Text)
		if !ok || v.Wildcard() {
			return "0"
		}
		return each + "type = 'text' AND kql_time(value) = " + c.bind(t.UnixNano()) + ")"
	case kql.Text:
		// Text fields are columns; a text field in a document holds a
		// value that is not a string, which never matches text.
		return "0"
	}
	if v.Wildcard() {
		return each + "type = 'text' AND value GLOB " + c.bind(globPattern(v.Parts)) + ")"
	}
	var num any
	if f, err := strconv.ParseFloat(v.Text, 64); err == nil {
		num = f
	}
	s := c.bind(v.Text)
	n1 := c.bind(num)
	n2 := c.bind(num)
	t1 := c.bind(v.Text)
	t2 := c.bind(v.Text)
	return each + "CASE type WHEN 'text' THEN value = " + s +
		" WHEN 'integer' THEN value = " + n1 +
		" WHEN 'real' THEN value = " + n2 +
		" WHEN 'true' THEN " + t1 + " = 'true'" +
		" WHEN 'false' THEN " + t2 + " = 'false' ELSE 0 END)"
}

// text matches text columns through the full-text index, or through
// kql_match for wildcards the index cannot express.
func (c *compiler) text(cols []string, v kql.Value) string {
	filter := "{" + strings.Join(cols, " ") + "} : "
	if v.Wildcard() {
		if len(v.Parts) == 2 && v.Parts[1] == "" {
			prefix := strings.ToLower(v.Parts[0])
			if words := kql.Tokenize(prefix); len(words) == 1 && words[0] == prefix {
				return c.fts(filter + `"` + prefix + `" *`)
			}
		}
		conds := make([]string, len(cols))
		for i, col := range cols {
			field := "message"
			if col == "original" {
				field = "event.original"
			}
			conds[i] = c.fallback(&kql.Is{Field: field, Value: v})
		}
		return strings.Join(conds, " OR ")
	}
	words := kql.Tokenize(v.Text)
	if len(words) == 0 {
		return "0"
	}
	if v.Quoted {
		return c.fts(filter + `"` + strings.Join(words, " ") + `"`)
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	return c.fts(filter + "(" + strings.Join(quoted, " OR ") + ")")
}

func (c *compiler) fts(match string) string {
	return "rid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH " + c.bind(match) + ")"
}

var sqlOps = map[kql.RangeOp]string{kql.Less: " < ", kql.LessOrEqual: " <= ", kql.Greater: " > ", kql.GreaterOrEqual: " >= "}

func (c *compiler) rangeCond(n *kql.Range) string {
	op := sqlOps[n.Op]
	v := n.Value
	num, numErr := strconv.ParseFloat(v.Text, 64)
	switch n.Field {
	case "@timestamp":
		t, ok := kql.ParseDate(v.Text)
		if !ok {
			return "0"
		}
		return "ts" + op + c.bind(t.UnixNano())
	case "event.id":
		return "id" + op + c.bind(v.Text)
	case "canhgac.source_id":
		return "source_id" + op + c.bind(v.Text)
	case "event.sequence":
		if numErr != nil {
			return "0"
		}
		return "seq" + op + c.bind(num)
	}
	if col, ok := promotedByField[n.Field]; ok {
		switch col.kind {
		case colString, colText:
			return c.withSpill(n.Field, col.name+op+c.bind(v.Text), func(p string) string { return c.docRange(n.Field, p, n.Op, v) })
		case colIP:
			a, ok := kql.ParseIP(v.Text)
			if !ok {
				return "0"
			}
			b := a.As16()
			cond := col.name + op + c.bind(b[:]) + " AND " + c.family(col.name, a)
			return c.withSpill(n.Field, cond, func(p string) string { return c.docRange(n.Field, p, n.Op, v) })
		}
	}
	path, ok := docPath(n.Field)
	if !ok {
		return c.fallback(n)
	}
	return c.docRange(n.Field, path, n.Op, v)
}

// family restricts a 16-byte address expression to the family of a.
func (c *compiler) family(expr string, a netip.Addr) string {
	in := expr + " BETWEEN " + c.bind(v4lo[:]) + " AND " + c.bind(v4hi[:])
	if a.Is4() {
		return in
	}
	return "NOT (" + in + ")"
}

func (c *compiler) docRange(field, path string, rop kql.RangeOp, v kql.Value) string {
	op := sqlOps[rop]
	each := "EXISTS (SELECT 1 FROM json_each(doc, " + c.bind(path) + ") WHERE "
	switch kql.TypeOf(field) {
	case kql.IP:
		a, ok := kql.ParseIP(v.Text)
		if !ok {
			return "0"
		}
		b := a.As16()
		return each + "type = 'text' AND kql_ip(value)" + op + c.bind(b[:]) + " AND " + c.family("kql_ip(value)", a) + ")"
	case kql.Date:
		t, ok := kql.ParseDate(v.Text)
		if !ok {
			return "0"
		}
		return each + "type = 'text' AND kql_time(value)" + op + c.bind(t.UnixNano()) + ")"
	}
	var num any
	if f, err := strconv.ParseFloat(v.Text, 64); err == nil {
		num = f
	}
	return each + "CASE type WHEN 'text' THEN value" + op + c.bind(v.Text) +
		" WHEN 'integer' THEN value" + op + c.bind(num) +
		" WHEN 'real' THEN value" + op + c.bind(num) + " ELSE 0 END)"
}

// freeText searches the text columns, the keyword columns and every
// string of a keyword field in the document, as kql.Match does.
func (c *compiler) freeText(n *kql.Is) string {
	v := n.Value
	conds := []string{c.text([]string{"message", "original"}, v)}
	for _, col := range stringColumns {
		conds = append(conds, c.keywordColumn(col, v))
	}
	var valueCond string
	if v.Wildcard() {
		valueCond = "value GLOB " + c.bind(globPattern(v.Parts))
	} else {
		valueCond = "value = " + c.bind(v.Text)
	}
	conds = append(conds, "EXISTS (SELECT 1 FROM json_tree(doc) WHERE type = 'text' AND "+valueCond+" AND kql_keyword_path(fullkey))")
	if c.spilled["message"] || c.spilled["event.original"] {
		// A text field kept in the document (a list of strings) is not in
		// the full-text index.
		conds = append(conds, c.fallback(n))
	}
	return "(" + strings.Join(conds, ") OR (") + ")"
}
