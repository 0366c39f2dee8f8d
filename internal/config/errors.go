package config

import "github.com/canhgac/canhgac/i18n"

// Error is a configuration error with a catalog message, so the CLI can
// show it in the user's language.
type Error struct {
	key  string
	args []any
}

func newError(key string, args ...any) *Error { return &Error{key: key, args: args} }

// Error returns the English message.
func (e *Error) Error() string { return e.Text(i18n.EN) }

// Text returns the message in lang.
func (e *Error) Text(lang i18n.Lang) string { return i18n.T(lang, e.key, e.args...) }

func init() {
	i18n.Register(map[string]i18n.Message{
		"config.duration.invalid": {
			VI: "khoảng thời gian %q không hợp lệ: dùng dạng Go như 720h hoặc số ngày như 365d",
			EN: "invalid duration %q: use a Go duration such as 720h or a number of days such as 365d",
		},
		"config.region.empty": {
			VI: "region đang trống: đặt tên vùng của trung tâm dữ liệu này, ví dụ dc1",
			EN: "region is empty: set it to this site's region, such as dc1",
		},
		"config.data_dir.empty": {
			VI: "data_dir đang trống: đặt thư mục lưu dữ liệu, ví dụ canhgac-data",
			EN: "data_dir is empty: set a folder for the store, such as canhgac-data",
		},
		"config.addr.invalid": {
			VI: "%s %q không có dạng host:port: %v",
			EN: "%s %q is not host:port: %v",
		},
		"config.console.remote": {
			VI: "console.addr %q không phải địa chỉ loopback: giao diện nhúng phục vụ HTTP không mã hóa, vì vậy hãy dùng 127.0.0.1, hoặc đặt console.allow_remote khi đã có proxy TLS phía trước",
			EN: "console.addr %q is not a loopback address: the embedded console serves plain HTTP, so bind it to 127.0.0.1 or set console.allow_remote behind a TLS proxy",
		},
		"config.read": {
			VI: "không đọc được tệp cấu hình %s: %v",
			EN: "cannot read config file %s: %v",
		},
		"config.parse": {
			VI: "tệp cấu hình %s không hợp lệ: %v",
			EN: "invalid config file %s: %v",
		},
	})
}
