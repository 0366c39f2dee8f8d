package tabular

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriterFormats(t *testing.T) {
	rows := [][]string{{"r1", "high"}, {"r2", "low, with comma"}}
	cases := []struct {
		format Format
		want   string
	}{
		{Table, "ID  LEVEL\nr1  high\nr2  low, with comma\n"},
		{CSV, "ID,LEVEL\nr1,high\nr2,\"low, with comma\"\n"},
		{JSON, "{\"id\":\"r1\"}\n{\"id\":\"r2\"}\n"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		w := NewWriter(&buf, c.format, "ID", "LEVEL")
		for _, r := range rows {
			if err := w.Row(r, map[string]string{"id": r[0]}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != c.want {
			t.Errorf("%s: got %q, want %q", c.format, buf.String(), c.want)
		}
	}
}

func TestTableCutsLongCells(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Table, "V")
	w.Row([]string{strings.Repeat("ả", 200) + "\tx"}, nil)
	w.Flush()
	line := strings.Split(buf.String(), "\n")[1]
	if n := len([]rune(line)); n != maxCell {
		t.Errorf("cell has %d runes, want %d", n, maxCell)
	}
}

func TestParseFormatRejectsUnknown(t *testing.T) {
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("err = %v, want one naming xml", err)
	}
}
