// Package tabular writes rows of CLI output as an aligned text table, as
// JSON lines or as CSV, so every tabular command offers the same
// --format table|json|csv choice.
package tabular

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Format is an output format of a tabular command.
type Format string

// The supported formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// ParseFormat returns the format named by s.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case Table, JSON, CSV:
		return Format(s), nil
	}
	return "", fmt.Errorf("invalid format %q: use table, json or csv", s)
}

// Writer writes rows in one format. Table and CSV output use the column
// headers and the Cells of each row; JSON output writes the Object of each
// row as one line, so JSON consumers get typed, nested values.
type Writer struct {
	format  Format
	out     io.Writer
	headers []string
	tw      *tabwriter.Writer
	cw      *csv.Writer
	enc     *json.Encoder
	started bool
}

// NewWriter returns a writer of rows with the given column headers.
func NewWriter(out io.Writer, format Format, headers ...string) *Writer {
	w := &Writer{format: format, out: out, headers: headers}
	switch format {
	case Table:
		w.tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	case CSV:
		w.cw = csv.NewWriter(out)
	default:
		w.enc = json.NewEncoder(out)
		w.enc.SetEscapeHTML(false)
	}
	return w
}

// Row writes one row: cells for table and CSV, object for JSON.
func (w *Writer) Row(cells []string, object any) error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	switch w.format {
	case Table:
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = cellText(c)
		}
		_, err := fmt.Fprintln(w.tw, strings.Join(clean, "\t"))
		return err
	case CSV:
		return w.cw.Write(cells)
	default:
		return w.enc.Encode(object)
	}
}

// Flush writes buffered output. A table with no rows still prints its
// header so the user sees that the command ran.
func (w *Writer) Flush() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	switch w.format {
	case Table:
		return w.tw.Flush()
	case CSV:
		w.cw.Flush()
		return w.cw.Error()
	}
	return nil
}

// writeHeader writes the column headers before the first row, once; JSON
// output has none.
func (w *Writer) writeHeader() error {
	if w.started {
		return nil
	}
	w.started = true
	switch w.format {
	case Table:
		_, err := fmt.Fprintln(w.tw, strings.Join(w.headers, "\t"))
		return err
	case CSV:
		return w.cw.Write(w.headers)
	}
	return nil
}

// maxCell is the widest table cell in runes; longer values are cut with an
// ellipsis so one long command line does not wreck the table.
const maxCell = 80

func cellText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= maxCell {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxCell-1]) + "…"
}
