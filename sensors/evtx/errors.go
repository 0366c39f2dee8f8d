package evtx

import (
	"errors"

	"github.com/canhgac/canhgac/i18n"
)

// ErrNotEVTX matches (errors.Is) the error Open returns when the input is
// not an EVTX file.
var ErrNotEVTX = errors.New("not an EVTX file")

// NotEVTXError reports input that is not an EVTX file: too short for the
// file header, or without its "ElfFile\x00" signature.
type NotEVTXError struct {
	// Detail says what was found, for example the signature bytes.
	Detail string
}

// Error returns the English text.
func (e *NotEVTXError) Error() string { return e.Text(i18n.EN) }

// Text returns the message in lang.
func (e *NotEVTXError) Text(lang i18n.Lang) string {
	return i18n.T(lang, "evtx.not_evtx", e.Detail)
}

// Is makes errors.Is(err, ErrNotEVTX) true.
func (e *NotEVTXError) Is(target error) bool { return target == ErrNotEVTX }

// Summary returns one line for the user on what a read of path found.
func (s Stats) Summary(lang i18n.Lang, path string) string {
	return i18n.T(lang, "evtx.summary", path, s.Records, s.Chunks, s.BadChunks, s.BadRecords)
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"evtx.not_evtx": {
			VI: "Không phải tệp nhật ký sự kiện Windows (.evtx): %s. Hãy xuất nhật ký từ Event Viewer dưới dạng .evtx, hoặc đọc bản JSON của nó như một tệp nhật ký.",
			EN: "Not a Windows event log file (.evtx): %s. Export the log from Event Viewer as .evtx, or read its JSON rendering as a log file.",
		},
		"evtx.summary": {
			VI: "%s: đã đọc %d sự kiện từ %d khối (chunk), bỏ qua %d khối hỏng và %d bản ghi hỏng.",
			EN: "%s: read %d events from %d chunks, skipped %d damaged chunks and %d damaged records.",
		},
	})
}
