package logparse

import (
	"fmt"

	"github.com/canhgac/canhgac/i18n"
)

// Reason is the machine-readable cause of a dead letter. The dead-letter
// store keeps it as a stable code; the console shows the catalog message
// under Reason.CatalogKey in the analyst's language.
type Reason string

// Dead-letter reasons. The list is closed: every Record.Err is a *ParseError
// carrying one of these.
const (
	// ReasonJSONInvalid: the line starts with '{' but is not valid JSON.
	ReasonJSONInvalid Reason = "json_invalid"
	// ReasonJSONNotObject: the JSON value is not an object.
	ReasonJSONNotObject Reason = "json_not_object"
	// ReasonJSONTimestamp: an ECS document carries an @timestamp that is
	// not RFC 3339.
	ReasonJSONTimestamp Reason = "json_timestamp_invalid"
	// ReasonAuditdHeader: the line starts with "type=" but has no valid
	// "msg=audit(SECONDS.MILLIS:SERIAL):" header.
	ReasonAuditdHeader Reason = "auditd_header_invalid"
	// ReasonFormatMismatch: the decoder was created for one explicit format
	// and the line is not in that format.
	ReasonFormatMismatch Reason = "format_mismatch"
	// ReasonLineTooLong: the line exceeds Options.MaxLineBytes.
	ReasonLineTooLong Reason = "line_too_long"
)

// CatalogKey returns the i18n key of the reason's message, for example
// "logparse.deadletter.json_invalid".
func (r Reason) CatalogKey() string { return "logparse.deadletter." + string(r) }

// ParseError is the error of a dead-letter Record. Detail is English text
// for logs; Text renders the catalog message for users.
type ParseError struct {
	// Reason is the stable code stored with the dead letter.
	Reason Reason
	// Detail names the offending value, in English, for logs.
	Detail string
	// Err is the underlying error, if any (for example from encoding/json).
	Err error
}

// Error returns "reason: detail".
func (e *ParseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Reason, e.Detail, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Text returns the user-facing message in lang, with the detail appended.
func (e *ParseError) Text(lang i18n.Lang) string {
	return i18n.T(lang, e.Reason.CatalogKey(), e.Detail)
}

func parseErr(r Reason, detail string, err error) *ParseError {
	return &ParseError{Reason: r, Detail: detail, Err: err}
}

func init() {
	i18n.Register(map[string]i18n.Message{
		ReasonJSONInvalid.CatalogKey(): {
			VI: "Dòng JSON không hợp lệ (%s). Kiểm tra nguồn ghi nhật ký có ghi mỗi sự kiện trên đúng một dòng.",
			EN: "Invalid JSON line (%s). Check that the log source writes each event on exactly one line.",
		},
		ReasonJSONNotObject.CatalogKey(): {
			VI: "Dòng JSON không phải là một đối tượng (%s). Mỗi sự kiện phải là một đối tượng JSON {...}.",
			EN: "JSON line is not an object (%s). Each event must be one JSON object {...}.",
		},
		ReasonJSONTimestamp.CatalogKey(): {
			VI: "Trường @timestamp không hợp lệ (%s). Dùng định dạng RFC 3339, ví dụ 2024-05-01T12:00:00Z.",
			EN: "Invalid @timestamp (%s). Use RFC 3339, for example 2024-05-01T12:00:00Z.",
		},
		ReasonAuditdHeader.CatalogKey(): {
			VI: "Bản ghi auditd thiếu phần đầu msg=audit(GIÂY.MILI:SỐ_THỨ_TỰ) hợp lệ (%s).",
			EN: "auditd record lacks a valid msg=audit(SECONDS.MILLIS:SERIAL) header (%s).",
		},
		ReasonFormatMismatch.CatalogKey(): {
			VI: "Dòng không đúng định dạng đã cấu hình (%s). Kiểm tra định dạng của nguồn hoặc dùng định dạng auto.",
			EN: "Line does not match the configured format (%s). Check the source's format or use format auto.",
		},
		ReasonLineTooLong.CatalogKey(): {
			VI: "Dòng quá dài (%s). Tăng giới hạn độ dài dòng hoặc kiểm tra nguồn.",
			EN: "Line too long (%s). Raise the line length limit or check the source.",
		},
		"logparse.format.invalid": {
			VI: "Định dạng nhật ký %q không hợp lệ. Dùng một trong: %s.",
			EN: "Invalid log format %q. Use one of: %s.",
		},
	})
}
