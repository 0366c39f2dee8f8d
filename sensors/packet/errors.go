package packet

import (
	"errors"

	"github.com/canhgac/canhgac/i18n"
)

func init() {
	i18n.Register(map[string]i18n.Message{
		"packet.capture.permission": {
			VI: "không được phép bắt gói tin trực tiếp trên giao diện %q: hãy chạy với quyền root hoặc cấp CAP_NET_RAW cho chương trình (setcap cap_net_raw+ep canhgac)",
			EN: "live capture on interface %q is not permitted: run as root or grant CAP_NET_RAW to the binary (setcap cap_net_raw+ep canhgac)",
		},
		"packet.capture.no_interface": {
			VI: "không tìm thấy giao diện mạng %q: xem danh sách giao diện bằng lệnh `ip link`",
			EN: "network interface %q not found: list the interfaces with `ip link`",
		},
		"packet.capture.open": {
			VI: "không mở được phiên bắt gói tin trên giao diện %q",
			EN: "cannot open live capture on interface %q",
		},
		"packet.capture.read": {
			VI: "đọc gói tin từ giao diện %q thất bại",
			EN: "reading packets from interface %q failed",
		},
		"packet.file.open": {
			VI: "không mở được tệp bắt gói tin %q",
			EN: "cannot open capture file %q",
		},
		"packet.file.format": {
			VI: "dữ liệu vào không phải tệp pcap hoặc pcapng hợp lệ",
			EN: "the input is not a valid pcap or pcapng file",
		},
	})
}

// Error is an error shown to users, with a message from the i18n catalog.
// Error() returns the English text followed by the cause, and Message
// returns the text in the user's language.
type Error struct {
	Key  string // catalog key, "packet.*"
	Args []any  // arguments of the catalog message
	Err  error  // cause, may be nil
}

func newError(key string, cause error, args ...any) *Error {
	return &Error{Key: key, Args: args, Err: cause}
}

// Error returns the English message and the cause.
func (e *Error) Error() string {
	return e.Message(i18n.EN)
}

// Message returns the message in lang, followed by the cause.
func (e *Error) Message(lang i18n.Lang) string {
	msg := i18n.T(lang, e.Key, e.Args...)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// IsPermission reports whether err is the error of a live capture that
// lacks root or CAP_NET_RAW.
func IsPermission(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Key == "packet.capture.permission"
}
