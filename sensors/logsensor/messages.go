package logsensor

import (
	"os"
	"os/user"
	"strconv"

	"github.com/canhgac/canhgac/i18n"
)

func init() {
	i18n.Register(map[string]i18n.Message{
		"logsensor.file.permission": {
			VI: "không đọc được tệp nhật ký %s: không có quyền (tệp thuộc nhóm %s, cảm biến chạy với người dùng %s). Hãy chạy cảm biến với quyền root hoặc thêm người dùng %s vào nhóm %s (ví dụ: usermod -aG %s %s), rồi khởi động lại cảm biến",
			EN: "cannot read log file %s: permission denied (the file belongs to group %s, the sensor runs as user %s). Run the sensor as root or add user %s to group %s (for example: usermod -aG %s %s), then restart the sensor",
		},
		"logsensor.file.open": {
			VI: "không mở được tệp nhật ký %s: %v",
			EN: "cannot open log file %s: %v",
		},
		"logsensor.file.notregular": {
			VI: "%s không phải là tệp thông thường (%s); hãy cấu hình đường dẫn tới một tệp nhật ký",
			EN: "%s is not a regular file (%s); configure the path of a log file instead",
		},
		"logsensor.file.waiting": {
			VI: "tệp nhật ký %s chưa tồn tại; cảm biến sẽ bắt đầu đọc khi tệp được tạo",
			EN: "log file %s does not exist yet; the sensor starts reading when it is created",
		},
		"logsensor.glob.invalid": {
			VI: "mẫu đường dẫn %q không hợp lệ: %v; hãy dùng cú pháp glob như /var/log/nginx/*.log",
			EN: "invalid path pattern %q: %v; use glob syntax such as /var/log/nginx/*.log",
		},
		"logsensor.checkpoint.corrupt": {
			VI: "tệp điểm kiểm tra %s bị hỏng: %v. Hãy xoá tệp này để đọc lại nguồn %s từ đầu (có thể nhập trùng các sự kiện đã lưu nhưng không mất sự kiện nào)",
			EN: "checkpoint file %s is corrupt: %v. Delete it to read source %s again from the start (events already stored may be read again, none are lost)",
		},
		"logsensor.checkpoint.dir": {
			VI: "không tạo được thư mục điểm kiểm tra %s: %v; hãy kiểm tra thư mục dữ liệu và quyền ghi",
			EN: "cannot create checkpoint directory %s: %v; check the data directory and its write permission",
		},
		"logsensor.syslog.listen": {
			VI: "không lắng nghe được syslog %s trên %s: %v; hãy chọn cổng khác (mặc định 5514) hoặc dừng tiến trình đang dùng cổng này",
			EN: "cannot listen for syslog %s on %s: %v; choose another port (default 5514) or stop the process that uses it",
		},
		"logsensor.syslog.network": {
			VI: "giao thức syslog %q không hợp lệ; dùng \"udp\" hoặc \"tcp\"",
			EN: "invalid syslog network %q; use \"udp\" or \"tcp\"",
		},
	})
}

// Error is an error shown to users, with its text in the message catalog. Key
// and Args select and format the catalog message; Err is the underlying
// cause, if any.
type Error struct {
	Key  string
	Args []any
	Err  error
}

// Error returns the English text, for logs.
func (e *Error) Error() string { return e.Message(i18n.EN) }

// Message returns the text in lang.
func (e *Error) Message(lang i18n.Lang) string { return i18n.T(lang, e.Key, e.Args...) }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(err error, key string, args ...any) *Error {
	return &Error{Key: key, Args: args, Err: err}
}

// permissionError explains a denied open of a log file: which group owns
// it, which user the sensor runs as, and how to grant access.
func permissionError(path string, err error) *Error {
	group := "adm"
	if fi, statErr := os.Stat(path); statErr == nil {
		if gid, ok := fileGroupID(fi); ok {
			group = strconv.FormatUint(uint64(gid), 10)
			if g, err := user.LookupGroupId(group); err == nil {
				group = g.Name
			}
		}
	}
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return newError(err, "logsensor.file.permission", path, group, name, name, group, group, name)
}
